/** The CLI's side of wxreach's HTTP API: one call, its answer, and errors a person can act on. */

/** A failure to show the user (exit code 1), with the API's answer when there was one. */
export class CliError extends Error {
  constructor(
    message: string,
    /** The body wxreach answered with (printed as it came under --json). */
    readonly answer?: unknown,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface ApiTarget {
  url: string;
  apiKey: string | undefined;
}

export interface CallOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Default 30 s; a recovery may wait minutes for WeChat. */
  timeoutMs?: number;
  /** Abandons the call (Ctrl-C). */
  signal?: AbortSignal;
}

export interface Answer {
  status: number;
  headers: Headers;
  /** The parsed JSON body (undefined for an empty one, e.g. 204). */
  body: unknown;
}

const DEFAULT_TIMEOUT_MS = 30_000;

interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: unknown };
}

/** `details` as lines: one per field at fault, or the facts as JSON. */
function detailLines(details: unknown): string {
  if (details === undefined) return '';
  if (Array.isArray(details)) return details.map((d: { field?: string; message?: string }) => `\n  ${d.field ?? '?'}: ${d.message ?? ''}`).join('');
  return ` ${JSON.stringify(details)}`;
}

export async function callApi(target: ApiTarget, method: string, path: string, o: CallOptions = {}): Promise<Answer> {
  const base = target.url.replace(/\/+$/, '');
  const query = new URLSearchParams(Object.entries(o.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  const where = `${method} ${path}`;
  let res: Response;
  try {
    res = await fetch(`${base}${path}${query ? `?${query}` : ''}`, {
      method,
      headers: {
        ...(target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}),
        ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...o.headers,
      },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
      signal: AbortSignal.any([AbortSignal.timeout(o.timeoutMs ?? DEFAULT_TIMEOUT_MS), ...(o.signal ? [o.signal] : [])]),
    });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw new CliError(`${where}: wxreach at ${base} did not answer within ${(o.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s`);
    if ((err as Error).name === 'AbortError') throw new CliError(`${where}: interrupted`);
    // fetch says only "fetch failed": the reason (ECONNREFUSED, ENOTFOUND, a bad port…) is its cause.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach wxreach at ${base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new CliError(`${where} answered HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)} (is ${base} wxreach?)`);
  }
  if (res.ok) return { status: res.status, headers: res.headers, body };
  const e = (body as ApiErrorBody | undefined)?.error;
  if (res.status === 404 && e?.message?.startsWith('no route for')) {
    throw new CliError(`${where}: the wxreach at ${base} does not have this route (an older version?)`, body);
  }
  const hint = res.status === 401 ? ' (pass --api-key or set WXREACH_API_KEY)' : '';
  throw new CliError(`${where} failed: HTTP ${res.status} ${e?.code ?? ''}: ${e?.message ?? text}${hint}${detailLines(e?.details)}`, body);
}
