import * as S from '../control-schemas';
import { ok, route, type Route } from '../control-route';
import * as C from './control-schemas';

/** The component's control routes; each calls the ComponentControl method of the same name. */
export const COMPONENT_CONTROL_ROUTES: Route[] = [
  route('GET', '/_emulator/component', undefined, (c) => c.component.status()),
  route('GET', '/_emulator/component/ticket', undefined, (c) => ({ ticket: c.component.ticket() ?? null })),
  route('POST', '/_emulator/component/ticket', undefined, (c) => c.component.pushTicket()),
  route('POST', '/_emulator/component/ticket-failures', C.failBody, (c, _p, b) => ok(c.component.setTicketPushesFail(b.fail))),
  route('GET', '/_emulator/component/auth-events', undefined, (c) => c.component.authEvents()),
  route('POST', '/_emulator/component/auth-event-url', C.urlBody, (c, _p, b) => ok(c.component.setAuthEventUrl(b.url ?? undefined))),
  route('POST', '/_emulator/component/message-url', C.urlBody, (c, _p, b) => ok(c.component.setMessageUrl(b.url ?? undefined))),
  route('POST', '/_emulator/component/merchants/:appid/authorize', C.authorizeBody, (c, p, b) => c.component.authorize(p.appid, b)),
  route('POST', '/_emulator/component/merchants/:appid/unauthorize', undefined, (c, p) => c.component.unauthorize(p.appid)),
  route('POST', '/_emulator/component/release-test', C.releaseTestBody, (c, _p, b) => c.component.releaseTest(b)),
  route('POST', '/_emulator/component/faults', S.faultsBody, (c, _p, b) => c.component.setFaults(b)),
  route('POST', '/_emulator/component/token/invalidate', undefined, (c) => ok(c.component.invalidateTokens())),
  route('GET', '/_emulator/component/stats', undefined, (c) => c.component.stats()),
];
