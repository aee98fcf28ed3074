/**
 * The WeChat platform emulator: Official Account APIs, pushes and a control API, for tests, demos
 * and benchmarks.
 *
 * Accounts. The top-level options describe the default account; `accounts` adds more own
 * accounts and `merchants` accounts that can authorise the third-party platform (`component`).
 * Each account has its own users, templates, inbox, quota, customer-service windows, tokens,
 * faults, call counters, msgid counters (two accounts may hand out the same msgid) and push URL.
 * An API call acts on the account that issued its access_token (a merchant's authorizer token
 * included); a token request on the account it names. `handle.control` acts on the default
 * account, `handle.control.account(appid)` on another; the clock, reset() and whenIdle() are the
 * whole emulator's. Over HTTP, every `/_emulator/…` account route also exists as
 * `/_emulator/accounts/<appid>/…` for another account; `GET /_emulator/accounts` lists them.
 *
 * The component. Tickets are pushed to its authorisation-event URL at once and every 10 minutes
 * of the virtual clock; `/cgi-bin/component/api_*` answer as WeChat's; merchants consent on
 * `/cgi-bin/componentloginpage` (or `control.component.authorize(appid)`), after which their
 * pushes go to the message URL (`$APPID$` replaced), signed and sealed with the component's
 * Token and key. `handle.control.component` and `/_emulator/component/…` steer it, including
 * `releaseTest()`, WeChat's full-network release check.
 */
import type { AddressInfo } from 'node:net';
import { EmulatorControl, seedAll } from './control';
import { EmulatorCore } from './core';
import { resolveOptions, type EmulatorOptions } from './options';
import { createEmulatorServer } from './server';

export { ControlError, EmulatorControl } from './control';
export type { AccountView, EmulatorStats, UserView } from './control';
export { ComponentControl } from './component/control';
export type { AuthorizeResult, AuthorizerView, ComponentView } from './component/control';
export type { AuthorizeOptions } from './component/component';
export type { AuthEventRecord } from './component/auth-events';
export type { ReleaseCheck, ReleaseReport } from './component/release-test';
export { RELEASE_TEST_ACCOUNTS } from './component/test-accounts';
export type { DeliveryResult } from './callback';
export type { AccountOptions, ComponentOptions, EmulatorOptions, SeedData, SeedTemplate, SeedUser } from './options';
export type { PushMode } from '../wechat/outbound-push';
export type { FaultSettings } from './faults';
export type { PassiveReplyResult } from './passive-reply';
export type { InboxChannel, InboxEntry, ReceiptOutcomeSetting, ReceiptStatus } from './state';

export interface EmulatorHandle {
  /** e.g. http://127.0.0.1:41234 — use it as the WeChat API base URL. */
  url: string;
  port: number;
  control: EmulatorControl;
  /** Stops the server, cancels pending receipts and closes every connection. */
  close(): Promise<void>;
}

/** Starts a WeChat platform emulator (port 0 = any free port). */
export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const opts = resolveOptions(options);
  const core = new EmulatorCore(opts);
  const control = new EmulatorControl(core);
  seedAll(control);
  const server = createEmulatorServer(core, control);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  core.component?.start();
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    control,
    close() {
      closing ??= (async () => {
        core.cancelScheduled();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.all([stopped, core.callback.close()]);
      })();
      return closing;
    },
  };
}
