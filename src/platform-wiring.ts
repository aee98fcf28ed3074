import type { Config } from './config/schema';
import { componentApiRouter, componentEdgeRouter } from './http/component-router';
import type { ServiceOptions } from './service';
import { Platform } from './wechat/component/platform';
import { RELEASE_TEST_ACCOUNTS } from './wechat/component/release-test';

/**
 * Third-party platform mode: the platform (tickets, tokens, merchants) on the service's WeChat
 * client and the deployment's part of the store, seen by the rest of wxreach as a directory of
 * merchant accounts, two routers and the release-test interceptor.
 */
export function platformFor(component: NonNullable<Config['component']>, publicUrl: string | null, options: { loginPageUrl?: string } = {}): NonNullable<ServiceOptions['platform']> {
  return ({ http, store, log, now, events }) => {
    const platform = new Platform({
      settings: { ...component, publicUrl },
      http,
      kv: store.deployment,
      log,
      events,
      now,
      onToken: log.secretUntil,
      loginPageUrl: options.loginPageUrl,
    });
    return {
      directory: {
        async authorizerState(appid) {
          // WeChat's release-test accounts are authorised by WeChat itself, whatever came of the exchange
          if (RELEASE_TEST_ACCOUNTS.has(appid)) return 'authorized';
          return (await platform.authorizer(appid))?.state ?? null;
        },
        async authorizedAppids() {
          return (await platform.authorizers()).filter((a) => a.state === 'authorized').map((a) => a.appid);
        },
        tokensFor: (appid) => platform.tokensFor(appid),
        pushCredentials: platform.pushCredentials,
      },
      edgeRouter: componentEdgeRouter(platform, { log, skewSeconds: 300, now }),
      apiRouter: componentApiRouter(platform),
      interceptor: platform.releaseTest,
      health: () => platform.health(),
      close: () => platform.settled(),
    };
  };
}
