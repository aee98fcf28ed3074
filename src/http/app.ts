import express, { type Express, type RequestHandler, type Router } from 'express';
import { within } from '../deadline';
import { apiRouter, type ApiDeps } from './api-router';
import { BODY_LIMIT_BYTES, LARGER_BODIES, refuseLargeBodies } from './body-limit';
import { errorHandler, notFound } from './errors';
import { openApiDocument } from './openapi';
import { wechatRouter, type WechatEdgeDeps } from './wechat-router';
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
  /** Times the answers to WeChat's pushes under /wechat (see CallbackStats). */
  callbacks?: RequestHandler;
}

/** A health check waits about a second: answer within it, whatever the checks are waiting for. */
const READINESS_DEADLINE_MS = 900;

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(refuseLargeBodies(BODY_LIMIT_BYTES, LARGER_BODIES));
  if (deps.callbacks) app.use('/wechat', deps.callbacks);
  if (deps.componentEdge) app.use('/wechat/component', deps.componentEdge);
  app.use('/wechat', wechatRouter(deps.wechat));
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
