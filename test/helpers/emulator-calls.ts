import type { Harness } from './harness';

export const TEMPLATE_SEND = '/cgi-bin/message/template/send';

/** How many times the service has called this WeChat API path on the harness's emulator. */
export const calls = (h: Harness, path: string) => h.emulator.control.stats().calls[path] ?? 0;
