import express, { type Express } from 'express';
import { apiRouter, type ApiDeps } from './api-router';
import { errorHandler, notFound } from './errors';
import { wechatRouter, type WechatEdgeDeps } from './wechat-router';
import type { Logger } from '../log/logger';
import type { MetricsEndpoint } from '../metrics/metrics';

export interface AppDeps {
  api: ApiDeps;
  wechat: WechatEdgeDeps;
  log: Logger;
  metrics: MetricsEndpoint;
  /** Extra readiness problems (token refused, quota paused…), empty when none. */
  readiness: () => Promise<{ ready: boolean; detail: Record<string, unknown> }>;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use('/wechat', wechatRouter(deps.wechat));
  app.use('/v1', apiRouter(deps.api));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.contentType).send(await deps.metrics.render());
  });
  app.get('/readyz', async (_req, res) => {
    const { ready, detail } = await deps.readiness();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', ...detail });
  });
  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
