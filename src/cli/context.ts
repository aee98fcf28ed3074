import { InvalidArgumentError, type Command } from 'commander';
import { callApi, type Answer, type CallOptions } from './api-client';

/** Where the CLI finds wxreach when neither --url nor WXREACH_URL says (the server's default port). */
export const DEFAULT_URL = 'http://127.0.0.1:3000';

/** What the CLI talks to: its output, its environment, and the end of a long-running command. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C: ends `webhooks listen` and `emulator`, and a call in flight. */
  signal?: AbortSignal;
}

/** A port argument (0: any free one). */
export function parsePort(v: string): number {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new InvalidArgumentError('not a port (0-65535)');
  return Number(v);
}

/** The options every command takes (declared on the program). */
export interface GlobalOptions {
  url?: string;
  apiKey?: string;
  json?: boolean;
}

/** What a command needs of the program: the API it talks to and how to print. */
export class CliContext {
  constructor(readonly io: CliIo) {}

  options(cmd: Command): GlobalOptions {
    return cmd.optsWithGlobals<GlobalOptions>();
  }

  call(cmd: Command, method: string, path: string, o: CallOptions = {}): Promise<Answer> {
    const { url, apiKey } = this.options(cmd);
    const target = { url: url ?? (this.io.env.WXREACH_URL || DEFAULT_URL), apiKey: apiKey ?? (this.io.env.WXREACH_API_KEY || undefined) };
    return callApi(target, method, path, { ...o, signal: this.io.signal });
  }

  /** Resolves on Ctrl-C: the end of a long-running command. */
  untilStopped(): Promise<void> {
    const { signal } = this.io;
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** The answer as it came under --json (for scripts), else as `human` prints it. */
  show(cmd: Command, body: unknown, human: () => void): void {
    if (this.options(cmd).json) this.io.out(JSON.stringify(body, null, 2));
    else human();
  }
}
