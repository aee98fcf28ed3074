import type { IncomingMessage, RequestListener } from 'node:http';
import express, { type Express, type Router } from 'express';
import { within } from '../deadline';
import { apiRouter, type ApiDeps } from './api-router';
import { BODY_LIMIT_BYTES, LARGER_BODIES, refuseLargeBodies } from './body-limit';
import type { CallbackStats } from './callback-stats';
import { errorHandler, notFound } from './errors';
import { notificationEdge } from './notification-edge';
import { openApiDocument } from './openapi';
import { wechatEdge, type HandOn, type WechatEdgeDeps } from './wechat-router';
import type { Logger } from '../log/logger';
import type { MetricsEndpoint } from '../metrics/metrics';

export interface AppDeps {
  api: ApiDeps;
  wechat: WechatEdgeDeps;
  /** The third-party platform's authorisation-event URL and callback (/wechat/component…), when in that mode. */
  componentEdge?: Router;
  log: Logger;
  metrics: MetricsEndpoint;
  /** The operator console (GET /console, its assets and session), when served. */
  console?: Router;
  /** Extra readiness problems (token refused, quota paused…), empty when none. */
  readiness: () => Promise<{ ready: boolean; detail: Record<string, unknown> }>;
  /** Times the answers to WeChat's pushes under /wechat. */
  callbacks?: Pick<CallbackStats, 'middleware' | 'answered'>;
}

/** A health check waits about a second: answer within it, whatever the checks are waiting for. */
const READINESS_DEADLINE_MS = 900;

/**
 * The server's requests: WeChat's pushes at /wechat and /wechat/<appid>, and the plain case of
 * POST /v1/notifications, are answered by edges on node:http directly (the two hot paths),
 * everything else (and what an edge hands on: a body too large, an error) by the express app.
 */
export function requestListener(deps: AppDeps): RequestListener {
  const handedOn = new WeakMap<IncomingMessage, unknown>();
  const app = createApp(deps, (req) => handedOn.get(req));
  const edge = wechatEdge(deps.wechat, { answers: deps.callbacks, componentElsewhere: deps.componentEdge !== undefined });
  const notifications = notificationEdge(deps.api);
  const handOn: HandOn = (req, res, err) => {
    handedOn.set(req, err);
    app(req, res);
  };
  return (req, res) => {
    if (!edge(req, res, handOn) && !notifications(req, res, handOn)) app(req, res);
  };
}

/**
 * The express app of everything but the /wechat edge's own paths. `handedOn` gives the error the
 * edge handed a request on with, answered by the error handler as any route's.
 */
export function createApp(deps: AppDeps, handedOn: (req: IncomingMessage) => unknown = () => undefined): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use((req, _res, next) => next(handedOn(req)));
  app.use(refuseLargeBodies(BODY_LIMIT_BYTES, LARGER_BODIES));
  if (deps.callbacks) app.use('/wechat', deps.callbacks.middleware);
  if (deps.componentEdge) app.use('/wechat/component', deps.componentEdge);
  app.use('/v1', apiRouter(deps.api));
  // No key needed: the description holds no secrets, and tells a client how to send its key.
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  if (deps.console) app.use('/console', deps.console);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', async (_req, res) => {
    // rendered before the content type is set, so a store error is answered in the API's JSON shape
    const text = await deps.metrics.render();
    res.type(deps.metrics.contentType).send(text);
  });
  app.get('/readyz', async (_req, res) => {
    const { ready, detail } = await within(deps.readiness(), READINESS_DEADLINE_MS, () => ({
      ready: false,
      detail: { checks: `not answered within ${READINESS_DEADLINE_MS} ms` },
    }));
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', ...detail });
  });
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
