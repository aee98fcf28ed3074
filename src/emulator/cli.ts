import { DEMO_ACCOUNT } from './options';
import { startEmulator, type EmulatorHandle } from './index';

/** A fake WeChat (tokens for demo credentials, deliveries nobody receives) has no place in production. */
export class EmulatorInProductionError extends Error {
  constructor() {
    super('the WeChat emulator is for tests and demos: refusing to start with NODE_ENV=production');
    this.name = 'EmulatorInProductionError';
  }
}

/**
 * The emulator as a standalone process (`npm run emulator`, `wxreach emulator`), configured from
 * the environment: started, and where it listens printed (never the AppSecret, the Token or the
 * AES key).
 */
export async function startEmulatorFromEnv(env: NodeJS.ProcessEnv, print: (line: string) => void): Promise<EmulatorHandle> {
  if (env.NODE_ENV === 'production') throw new EmulatorInProductionError();
  const port = Number(env.EMULATOR_PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`EMULATOR_PORT is not a port: ${env.EMULATOR_PORT}`);
  const aesKey = env.WECHAT_AES_KEY || undefined;
  const cb = env.EMULATOR_CALLBACK_URL ?? 'http://127.0.0.1:3000/wechat';
  const emu = await startEmulator({
    port,
    host: env.EMULATOR_HOST ?? '127.0.0.1',
    callbackUrl: cb,
    appId: env.WECHAT_APPID ?? DEMO_ACCOUNT.appId,
    appSecret: env.WECHAT_APPSECRET ?? DEMO_ACCOUNT.appSecret,
    token: env.WECHAT_TOKEN ?? DEMO_ACCOUNT.token,
    aesKey,
  });
  print(`WeChat emulator listening on ${emu.url}`);
  print(`  appid ${env.WECHAT_APPID ?? DEMO_ACCOUNT.appId}, mode ${aesKey ? 'safe' : 'plain'}, pushes to ${cb}`);
  print(`  control API: ${emu.url}/_emulator`);
  return emu;
}

if (require.main === module) {
  startEmulatorFromEnv(process.env, (line) => console.log(line)).then(
    (emu) => {
      const stop = () => {
        emu.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err: unknown) => {
      const refused = err instanceof EmulatorInProductionError;
      console.error(refused ? err.message : `emulator failed to start: ${(err as Error).message}`);
      process.exit(refused ? 2 : 1);
    },
  );
}
