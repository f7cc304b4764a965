import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { isBlockedAddress, vetTargetUrl } from '../../src/server/hooks/ssrf';
import { postPayload } from '../../src/server/hooks/post';
import { loadConfig } from '../../src/server/config';

describe('isBlockedAddress', () => {
  it.each([
    '127.0.0.1', '127.255.0.9', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254',
    '100.64.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254',
    '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '64:ff9b::7f00:1', 'not-an-ip',
    // IPv4-compatible, IPv4-translated, local NAT64 and Teredo forms of private IPv4 addresses
    '::7f00:1', '::a00:1', '::ffff:0:a00:1', '64:ff9b:1::a00:1', '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '192.0.2.1', '198.51.100.7', '203.0.113.9', '2001:db8::1', '100::1',
  ])('refuses %s', (ip) => expect(isBlockedAddress(ip)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'accepts %s',
    (ip) => expect(isBlockedAddress(ip)).toBe(false),
  );
});

describe('vetTargetUrl', () => {
  const resolveTo = (...addresses: string[]) => async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  it('accepts a public host', async () => {
    const url = await vetTargetUrl('https://hooks.example.com/in', false, resolveTo('93.184.216.34'));
    expect(url.href).toBe('https://hooks.example.com/in');
  });

  it.each([
    ['http://localhost:8080/x', resolveTo('127.0.0.1', '::1')],
    ['http://intranet.example.com/', resolveTo('10.0.0.7')],
    ['http://mixed.example.com/', resolveTo('93.184.216.34', '192.168.0.2')],
    ['http://metadata.example.com/', resolveTo('169.254.169.254')],
    ['http://v6meta.example.com/', resolveTo('fd00:ec2::254')],
  ])('refuses %s by its resolved addresses', async (url, resolver) => {
    await expect(vetTargetUrl(url, false, resolver)).rejects.toThrow(/private or reserved/);
  });

  it('says how to allow a receiver on your own machine or network', async () => {
    const error = await vetTargetUrl('http://127.0.0.1:3000/hook', false).catch((e: Error) => e.message);
    expect(error).toBe(
      'target_url resolves to a private or reserved address; for a receiver on your own machine or network, ' +
        'start the server with POPLET_ALLOW_PRIVATE_HOOKS=1 (--allow-private-hooks; `poplet hook add` takes it too)',
    );
    // The names the hint gives are the ones the configuration reads.
    expect(loadConfig({ POPLET_ALLOW_PRIVATE_HOOKS: '1' }).allowPrivateHooks).toBe(true);
    expect(loadConfig({}, ['serve', '--allow-private-hooks']).allowPrivateHooks).toBe(true);
  });

  it('does not tell the caller which private address a name resolved to', async () => {
    const error = await vetTargetUrl('http://db.internal.example/', false, resolveTo('10.20.30.40')).catch((e: Error) => e.message);
    expect(error).toMatch(/private or reserved/);
    expect(error).not.toContain('10.20.30.40');
  });

  it.each(['http://127.0.0.1/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://[::127.0.0.1]/', 'http://0x7f.1/', 'http://2130706433/', 'http://0.0.0.0/', 'http://169.254.169.254/latest/meta-data'])(
    'refuses the IP literal %s without asking DNS',
    async (url) => {
      await expect(vetTargetUrl(url, false, async () => { throw new Error('DNS must not be asked'); })).rejects.toThrow(/private or reserved/);
    },
  );

  it.each(['ftp://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url', '', 42, undefined])('refuses %s', async (url) => {
    await expect(vetTargetUrl(url, true)).rejects.toThrow(/target_url/);
  });

  it('refuses a host that does not resolve', async () => {
    await expect(vetTargetUrl('http://nx.invalid/', false, async () => { throw Object.assign(new Error('x'), { code: 'ENOTFOUND' }); })).rejects.toThrow(/does not resolve/);
  });

  it('lets private targets through with allowPrivateHooks', async () => {
    expect((await vetTargetUrl('http://127.0.0.1:9/x', true)).host).toBe('127.0.0.1:9');
  });
});

describe('delivery-time guard', () => {
  let server: http.Server;
  let port = 0;
  let hits = 0;
  const agents = { http: new http.Agent(), https: new https.Agent() };
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits++;
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('refuses to connect when the name resolves to loopback now (DNS rebinding)', async () => {
    // "localhost" stands for a public name whose DNS answer changed to 127.0.0.1 after creation.
    const r = await postPayload(`http://localhost:${port}/hook`, '[]', {}, { timeoutMs: 2000, allowPrivate: false, agents });
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/private or reserved address; .*POPLET_ALLOW_PRIVATE_HOOKS=1/) });
    const literal = await postPayload(`http://127.0.0.1:${port}/hook`, '[]', {}, { timeoutMs: 2000, allowPrivate: false, agents });
    expect(literal.ok).toBe(false);
    const mapped = await postPayload(`http://[::ffff:127.0.0.1]:${port}/hook`, '[]', {}, { timeoutMs: 2000, allowPrivate: false, agents });
    expect(mapped.ok).toBe(false);
    expect(hits).toBe(0);
  });

  it('connects when allowed', async () => {
    const r = await postPayload(`http://localhost:${port}/hook`, '[]', {}, { timeoutMs: 2000, allowPrivate: true, agents });
    expect(r).toEqual({ ok: true, status: 200 });
    expect(hits).toBe(1);
  });
});
