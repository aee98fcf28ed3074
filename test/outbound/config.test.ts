import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load';

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

/** loadConfig with `webhooks` from a config file. */
function load(webhooks: unknown) {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'wxreach-webhooks-')), 'config.json');
  writeFileSync(file, JSON.stringify({ webhooks }));
  return () => loadConfig({ WXREACH_CONFIG: file });
}

describe('the webhooks config', () => {
  it('defaults to no endpoints and no private addresses', () => {
    expect(loadConfig({}).webhooks).toEqual({ allowPrivate: false, endpoints: [] });
  });

  it('takes https endpoints with a whsec_ secret, event types and accounts', () => {
    const endpoint = { url: 'https://crm.example.com/wxreach', secret: SECRET, events: ['notification.failed', 'template.invalid'], accounts: ['wx0123456789abcdef'] };
    expect(load({ allowPrivate: false, endpoints: [endpoint] })().webhooks.endpoints).toEqual([endpoint]);
    expect(load({ allowPrivate: true, endpoints: [{ url: 'http://127.0.0.1:9000/hooks', secret: SECRET }] })().webhooks.endpoints).toHaveLength(1);
  });

  it.each([
    [{ url: 'http://crm.example.com/', secret: SECRET }, /webhooks\.endpoints\.0\.url: must be an https URL of a public address/],
    [{ url: 'https://10.1.2.3/', secret: SECRET }, /webhooks\.endpoints\.0\.url: must be an https URL of a public address/],
    [{ url: 'https://[::ffff:127.0.0.1]/', secret: SECRET }, /webhooks\.endpoints\.0\.url/],
    [{ url: 'https://crm.example.com/', secret: 'whsec_c2hvcnQ=' }, /webhooks\.endpoints\.0\.secret: must be whsec_ \+ base64 of 24 to 64 random bytes/],
    [{ url: 'https://crm.example.com/', secret: SECRET, events: ['notification.sent'] }, /webhooks\.endpoints\.0\.events\.0/],
    [{ url: 'https://crm.example.com/', secret: SECRET, accounts: ['nope'] }, /webhooks\.endpoints\.0\.accounts\.0/],
    [{ url: 'https://crm.example.com/', secret: SECRET, extra: 1 }, /webhooks\.endpoints\.0/],
  ])('refuses %j, naming the key and never the value', (endpoint, message) => {
    const run = load({ allowPrivate: false, endpoints: [endpoint] });
    expect(run).toThrow(message);
    try {
      run();
    } catch (err) {
      for (const value of [endpoint.url, endpoint.secret]) expect((err as Error).message).not.toContain(value);
    }
  });

  it('refuses the same URL twice', () => {
    const twice = { url: 'https://crm.example.com/', secret: SECRET };
    expect(load({ allowPrivate: false, endpoints: [twice, twice] })).toThrow(/webhooks\.endpoints\.1\.url: listed twice/);
  });
});
