import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postBytes, RawClient } from '../../bench/lib/raw-http';

// bench:receipts' figures rest on this client reading each answer whole and as its own.

let server: Server;
let url: string;
let connections = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const answer = `${req.url} ${body} ${req.headers.host}`;
      if (req.url?.startsWith('/chunked')) {
        res.writeHead(200, { 'content-type': 'text/plain' }); // headers first: node:http sends chunks
        res.write('first part, ');
        res.end(answer);
      } else if (req.url?.startsWith('/close')) {
        res.writeHead(503, { connection: 'close', 'content-length': Buffer.byteLength(answer) });
        res.end(answer);
      } else {
        res.setHeader('content-length', Buffer.byteLength(answer));
        res.end(answer);
      }
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('answers with a Content-Length or in chunks are read whole, each by the request that asked', async () => {
  const client = new RawClient(url, 2);
  const before = connections;
  const paths = Array.from({ length: 20 }, (_, i) => (i % 2 ? `/plain/${i}` : `/chunked/${i}`));
  const answers = await Promise.all(paths.map((p) => client.send(postBytes('127.0.0.1', p, `body ${p} 你好`, 'text/plain'))));
  client.close();
  expect(answers).toEqual(paths.map((p) => ({ status: 200, body: `${p.startsWith('/chunked') ? 'first part, ' : ''}${p} body ${p} 你好 127.0.0.1` })));
  expect(connections - before).toBe(2); // 20 requests waited their turn on 2 keep-alive connections
});

test('a connection the server closed is opened again for the next request', async () => {
  const client = new RawClient(url, 1);
  const before = connections;
  const closed = await client.send(postBytes('127.0.0.1', '/close', 'x', 'text/plain'));
  await new Promise((resolve) => setTimeout(resolve, 50)); // the close arrives
  const next = await client.send(postBytes('127.0.0.1', '/plain', 'y', 'text/plain'));
  client.close();
  expect([closed.status, next]).toEqual([503, { status: 200, body: '/plain y 127.0.0.1' }]);
  expect(connections - before).toBe(2);
});
