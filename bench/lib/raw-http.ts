import { connect, type Socket } from 'node:net';

/**
 * A load generator's HTTP/1.1 client, in the manner of wrk: each request's bytes are built once,
 * before timing, and an answer is read for its status and body only. A general client (undici)
 * spent 52–91 µs of the same two cores per request, against 24–27 for this one, and collected its
 * garbage meanwhile, which showed in every server's rate and tail alike: the measuring is kept
 * cheap, so the figures are the servers'.
 */

/** What the client read of an answer. */
export interface RawAnswer {
  status: number;
  body: string;
}

/** A POST's bytes: request line, Host, Content-Type and Content-Length, then `body`. */
export function postBytes(host: string, path: string, body: string, contentType: string): Buffer {
  const payload = Buffer.from(body);
  const head = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${contentType}\r\nContent-Length: ${payload.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;
const CHUNKED = /\r\ntransfer-encoding:\s*chunked/i;

/** One keep-alive connection: one request at a time, connected again when the server has closed it. */
class RawConnection {
  private socket: Socket | null = null;
  private received: Buffer = Buffer.alloc(0);
  private waiting: { resolve(a: RawAnswer): void; reject(e: Error): void } | null = null;

  constructor(
    private readonly port: number,
    private readonly host: string,
  ) {}

  send(bytes: Buffer): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.open().write(bytes);
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  private open(): Socket {
    if (this.socket) return this.socket;
    const socket = connect(this.port, this.host);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    const gone = (err?: Error) => {
      if (this.socket === socket) this.socket = null;
      this.received = Buffer.alloc(0);
      const w = this.waiting;
      this.waiting = null;
      w?.reject(err ?? new Error('the server closed the connection before answering'));
    };
    socket.on('error', gone);
    socket.on('close', () => gone());
    return (this.socket = socket);
  }

  private onData(chunk: Buffer): void {
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
    const answer = readAnswer(this.received);
    if (answer === null) return;
    if (answer instanceof Error) {
      this.socket?.destroy(answer);
      return;
    }
    this.received = this.received.subarray(answer.end);
    const w = this.waiting;
    this.waiting = null;
    w?.resolve({ status: answer.status, body: answer.body });
  }
}

/** The answer at the start of `data` and where it ends; null while it is incomplete. */
function readAnswer(data: Buffer): (RawAnswer & { end: number }) | Error | null {
  const headEnd = data.indexOf(HEAD_END);
  if (headEnd < 0) return null;
  const head = data.toString('latin1', 0, headEnd);
  const status = Number(head.slice(9, 12));
  let at = headEnd + HEAD_END.length;
  const length = CONTENT_LENGTH.exec(head);
  if (length) {
    const end = at + Number(length[1]);
    return data.length < end ? null : { status, body: data.toString('utf8', at, end), end };
  }
  if (!CHUNKED.test(head)) return new Error(`an answer with neither Content-Length nor chunks: ${head.slice(0, 200)}`);
  // chunks: a hex size and CRLF, that many bytes and CRLF, until the size 0 (no trailers expected)
  let body = '';
  for (;;) {
    const lineEnd = data.indexOf(CRLF, at);
    if (lineEnd < 0) return null;
    const size = parseInt(data.toString('latin1', at, lineEnd), 16);
    const start = lineEnd + CRLF.length;
    if (data.length < start + size + CRLF.length) return null;
    if (size === 0) return { status, body, end: start + CRLF.length };
    body += data.toString('utf8', start, start + size);
    at = start + size + CRLF.length;
  }
}

/** `connections` keep-alive connections to `url`; a request waits for a free one (as undici's Agent with pipelining 1 does). */
export class RawClient {
  private readonly free: RawConnection[];
  private readonly all: RawConnection[];
  /** Requests waiting for a connection; a connection let go goes straight to the first. */
  private readonly queue: Array<(c: RawConnection) => void> = [];

  constructor(url: string, connections: number) {
    const { hostname, port } = new URL(url);
    this.all = Array.from({ length: connections }, () => new RawConnection(Number(port), hostname));
    this.free = [...this.all];
  }

  async send(bytes: Buffer): Promise<RawAnswer> {
    const connection = this.free.pop() ?? (await new Promise<RawConnection>((resolve) => this.queue.push(resolve)));
    try {
      return await connection.send(bytes);
    } finally {
      const next = this.queue.shift();
      if (next) next(connection);
      else this.free.push(connection);
    }
  }

  close(): void {
    for (const c of this.all) c.close();
  }
}
