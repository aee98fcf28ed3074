import { DEMO_ACCOUNT } from './options';
import { startEmulator } from './index';

/** `npm run emulator`: the emulator as a standalone process, configured from the environment. */
async function main(): Promise<void> {
  const env = process.env;
  // A fake WeChat (tokens for demo credentials, deliveries nobody receives) has no place in production.
  if (env.NODE_ENV === 'production') {
    console.error('the WeChat emulator is for tests and demos: refusing to start with NODE_ENV=production');
    process.exit(2);
  }
  const port = Number(env.EMULATOR_PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`EMULATOR_PORT is not a port: ${env.EMULATOR_PORT}`);
  const aesKey = env.WECHAT_AES_KEY || undefined;
  const emu = await startEmulator({
    port,
    host: env.EMULATOR_HOST ?? '127.0.0.1',
    callbackUrl: env.EMULATOR_CALLBACK_URL ?? 'http://127.0.0.1:3000/wechat',
    appId: env.WECHAT_APPID ?? DEMO_ACCOUNT.appId,
    appSecret: env.WECHAT_APPSECRET ?? DEMO_ACCOUNT.appSecret,
    token: env.WECHAT_TOKEN ?? DEMO_ACCOUNT.token,
    aesKey,
  });
  const cb = env.EMULATOR_CALLBACK_URL ?? 'http://127.0.0.1:3000/wechat';
  // Never print the AppSecret, the Token or the AES key.
  console.log(`WeChat emulator listening on ${emu.url}`);
  console.log(`  appid ${env.WECHAT_APPID ?? DEMO_ACCOUNT.appId}, mode ${aesKey ? 'safe' : 'plain'}, pushes to ${cb}`);
  console.log(`  control API: ${emu.url}/_emulator`);
  const stop = () => {
    emu.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`emulator failed to start: ${(err as Error).message}`);
  process.exit(1);
});
