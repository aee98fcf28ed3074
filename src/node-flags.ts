/**
 * The Node.js flags wxreach runs with (`npm start` passes them; the benches' server processes get
 * them too, so they measure what is deployed). A unit test checks that package.json's start script
 * carries each of them.
 *
 * --max-semi-space-size=32 (MB): V8's young generation, where the short-lived objects of every
 * request live, is collected less often. Measured with `npm run bench:intake` on the 2-core
 * machine: a batch call's Node CPU per notice went from 44 to 33 µs, the garbage collector having
 * taken about a quarter of it; the young generation may then use up to about 100 MB.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
