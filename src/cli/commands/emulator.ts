import type { Command } from 'commander';
import { EmulatorInProductionError, startEmulatorFromEnv } from '../../emulator/cli';
import { CliError } from '../api-client';
import { parsePort, type CliContext } from '../context';

export function emulatorCommand(program: Command, cx: CliContext): void {
  program
    .command('emulator')
    .description('run the WeChat emulator, as `npm run emulator` does (EMULATOR_PORT, EMULATOR_CALLBACK_URL, WECHAT_APPID… configure it)')
    .option('--port <n>', 'the port (default: $EMULATOR_PORT or 4000)', parsePort)
    .action(async (o: { port?: number }) => {
      const env = { ...cx.io.env, ...(o.port === undefined ? {} : { EMULATOR_PORT: String(o.port) }) };
      const emulator = await startEmulatorFromEnv(env, cx.io.out).catch((err: unknown) => {
        throw err instanceof EmulatorInProductionError ? new CliError(err.message) : err;
      });
      await cx.untilStopped();
      await emulator.close();
    });
}
