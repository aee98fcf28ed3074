import type { AddressInfo } from 'node:net';
import { EmulatorControl, seedAll } from './control';
import { EmulatorCore } from './core';
import { resolveOptions, type EmulatorOptions } from './options';
import { createEmulatorServer } from './server';

export { ControlError, EmulatorControl } from './control';
export type { AccountView, EmulatorStats, UserView } from './control';
export { ComponentControl } from './component/control';
export type { AuthorizeResult, AuthorizerView, ComponentView } from './component/control';
export type { AuthorizeOptions } from './component/component';
export type { AuthEventRecord } from './component/auth-events';
export type { ReleaseCheck, ReleaseReport } from './component/release-test';
export { RELEASE_TEST_ACCOUNTS } from './component/test-accounts';
export type { DeliveryResult } from './callback';
export type { AccountOptions, ComponentOptions, EmulatorOptions, SeedData, SeedTemplate, SeedUser } from './options';
export type { PushMode } from '../wechat/outbound-push';
export type { FaultSettings } from './faults';
export type { PassiveReplyResult } from './passive-reply';
export type { InboxChannel, InboxEntry, ReceiptOutcomeSetting, ReceiptStatus } from './state';

export interface EmulatorHandle {
  /** e.g. http://127.0.0.1:41234 — use it as the WeChat API base URL. */
  url: string;
  port: number;
  control: EmulatorControl;
  /** Stops the server, cancels pending receipts and closes every connection. */
  close(): Promise<void>;
}

/** Starts a WeChat platform emulator (port 0 = any free port). */
export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const opts = resolveOptions(options);
  const core = new EmulatorCore(opts);
  const control = new EmulatorControl(core);
  seedAll(control);
  const server = createEmulatorServer(core, control);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  core.component?.start();
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    control,
    close() {
      closing ??= (async () => {
        core.cancelScheduled();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await Promise.all([stopped, core.callback.close()]);
      })();
      return closing;
    },
  };
}
