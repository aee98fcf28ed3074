import type { IncomingMessage, ServerResponse } from 'node:http';
import { COMPONENT_CONTROL_ROUTES } from './component/control-routes';
import { ControlError, type EmulatorControl } from './control';
import { ok, route, type Params, type Route } from './control-route';
import type { EmulatorCore } from './core';
import * as S from './control-schemas';
import { BodyTooLarge, readBody, sendJson } from './http';

/**
 * The control API: each route validates its body, then calls the EmulatorControl method of the
 * same name. These act on the default account; prefixed with `/_emulator/accounts/<appid>` (e.g.
 * `POST /_emulator/accounts/wx…/users/oX/messages`) they act on that account instead. The clock,
 * reset and `/_emulator/component/…` are the whole emulator's; `GET /_emulator/accounts` lists the accounts.
 */
export const CONTROL_ROUTES: Route[] = [
  route('POST', '/_emulator/users', S.userBody, (c, _p, b) => c.addUser(b)),
  route('GET', '/_emulator/users/:openid', undefined, (c, p) => c.user(p.openid)),
  route('POST', '/_emulator/users/:openid/subscribe', undefined, (c, p) => c.subscribe(p.openid)),
  route('POST', '/_emulator/users/:openid/unsubscribe', undefined, (c, p) => c.unsubscribe(p.openid)),
  route('POST', '/_emulator/users/:openid/messages', S.textBody, (c, p, b) => c.userSendsText(p.openid, b.text)),
  route('POST', '/_emulator/users/:openid/menu-clicks', S.keyBody, (c, p, b) => c.userClicksMenu(p.openid, b.key)),
  route('POST', '/_emulator/users/:openid/scans', S.sceneBody, (c, p, b) => c.userScans(p.openid, b.scene)),
  route('GET', '/_emulator/users/:openid/inbox', undefined, (c, p) => c.inbox(p.openid)),
  route('POST', '/_emulator/users/:openid/refusals', S.refusalBody, (c, p, b) => ok(c.refuseTemplate(p.openid, b.template_id, b.refused ?? true))),
  route('POST', '/_emulator/templates', S.templateBody, (c, _p, b) => ({ template_id: c.addTemplate(b) })),
  route('DELETE', '/_emulator/templates/:id', undefined, (c, p) => ok(c.deleteTemplate(p.id))),
  route('POST', '/_emulator/receipt-outcomes', S.outcomeBody, (c, _p, b) => ok(c.setReceiptOutcome(b))),
  route('POST', '/_emulator/faults', S.faultsBody, (c, _p, b) => c.setFaults(b)),
  route('POST', '/_emulator/token/rotate', undefined, (c) => c.rotateToken()),
  route('POST', '/_emulator/token/invalidate', undefined, (c) => ok(c.invalidateTokens())),
  route('POST', '/_emulator/clock/advance', S.clockBody, (c, _p, b) => c.advanceClock(b.seconds)),
  route('POST', '/_emulator/reset', undefined, (c) => ok(c.reset())),
  route('GET', '/_emulator/stats', undefined, (c) => c.stats()),
  route('POST', '/_emulator/callback-url', S.callbackBody, (c, _p, b) => ok(c.setCallbackUrl(b.url))),
];

const GLOBAL_ROUTES: Route[] = [
  route('GET', '/_emulator/accounts', undefined, (c) => c.accounts()),
  ...COMPONENT_CONTROL_ROUTES,
  route('GET', '/_emulator', undefined, (c) => ({ now: c.now(), routes: [...CONTROL_ROUTES, ...GLOBAL_ROUTES].map((r) => `${r.method} ${r.pattern}`) })),
];

const ACCOUNT_PREFIX = /^\/_emulator\/accounts\/([^/]+)(\/.*)$/;

function match(pattern: string, path: string): Params | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Params = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) {
      if (got[i] === '') return undefined;
      try {
        params[want[i].slice(1)] = decodeURIComponent(got[i]);
      } catch {
        return undefined;
      }
    } else if (want[i] !== got[i]) return undefined;
  }
  return params;
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return {};
  return JSON.parse(text);
}

/** The control a request acts on and the route path left once an account prefix is taken off. */
function selectAccount(control: EmulatorControl, path: string): { control: EmulatorControl; path: string; routes: Route[] } {
  const m = ACCOUNT_PREFIX.exec(path);
  if (!m) return { control, path, routes: [...CONTROL_ROUTES, ...GLOBAL_ROUTES] };
  let appid: string;
  try {
    appid = decodeURIComponent(m[1]);
  } catch {
    throw new ControlError(404, `no account ${m[1]}`);
  }
  return { control: control.account(appid), path: `/_emulator${m[2]}`, routes: CONTROL_ROUTES };
}

/** Answers one `/_emulator` request: 400 bad JSON/body, 404 unknown route, account or entity, 405 wrong method. */
export async function dispatchControl(core: EmulatorCore, defaultControl: EmulatorControl, rawPath: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let selected: ReturnType<typeof selectAccount>;
  try {
    selected = selectAccount(defaultControl, rawPath.replace(/\/+$/, '') || '/');
  } catch (err) {
    if (err instanceof ControlError) return sendJson(res, err.status, { error: err.message });
    throw err;
  }
  const { control, path } = selected;
  const candidates = selected.routes.map((r) => ({ r, params: match(r.pattern, path) })).filter((x) => x.params);
  // Counted per route pattern (not per openid) so the counters stay few: on the component for its routes, else on the account.
  const pattern = candidates.length > 0 ? candidates[0].r.pattern : '(unknown)';
  const callee = pattern.startsWith('/_emulator/component') && core.component ? core.component : (core.accounts.get(control.appId) ?? core.defaultAccount);
  callee.count(pattern);
  if (candidates.length === 0) return sendJson(res, 404, { error: `no control route ${rawPath}` });
  const hit = candidates.find((x) => x.r.method === req.method);
  if (!hit || !hit.params) return sendJson(res, 405, { error: `use ${candidates.map((x) => x.r.method).join(' or ')} for ${rawPath}` });
  let body: unknown;
  try {
    body = parseBody(await readBody(req));
  } catch (err) {
    return sendJson(res, err instanceof BodyTooLarge ? 413 : 400, { error: 'the body must be JSON' });
  }
  if (hit.r.schema) {
    const parsed = hit.r.schema.safeParse(body);
    if (!parsed.success) return sendJson(res, 400, { error: 'invalid body', issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
    body = parsed.data;
  }
  try {
    const result = await hit.r.run(control, hit.params, body as never);
    sendJson(res, 200, result ?? { ok: true });
  } catch (err) {
    if (err instanceof ControlError) return sendJson(res, err.status, { error: err.message });
    throw err;
  }
}
