// `npm start` runs again and again on the same data folder: the demo's provisioning must keep one
// demo hook, leave the owner's own hooks alone, and a busy port must say how to move the server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDemoHook } from '../../demo/provision';
import { startServer } from '../../src/server/main';
import { startFixture, type Fixture } from './fixture';

describe('demo provisioning', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ allowPrivateHooks: true });
  });
  afterAll(() => f.close());

  const api = async (path: string, init: RequestInit = {}) => {
    const r = await fetch(`${f.url}${path}`, {
      ...init,
      headers: { Authorization: `WISEPOPS-API key="${f.key}"`, 'Content-Type': 'application/json', ...(init.headers as Record<string, string>) },
    });
    return (await r.json()) as unknown;
  };
  const targets = async () => ((await api('/api1/hooks')) as Array<{ target_url: string }>).map((h) => h.target_url).sort();

  it('keeps one demo hook across runs, replaces the receiver of a run on another port, keeps the owner\'s hooks', async () => {
    const mine = 'http://127.0.0.1:3000/my-crm';
    const earlier = 'http://localhost:4999/poplet/hook';
    for (const target_url of [mine, earlier]) await api('/api1/hooks', { method: 'POST', body: JSON.stringify({ event: 'email', target_url }) });
    const receiver = 'http://127.0.0.1:5000/poplet/hook';
    const first = await registerDemoHook(f.url, f.key, receiver);
    const second = await registerDemoHook(f.url, f.key, receiver);
    expect(second).toBe(first);
    expect(await targets()).toEqual([mine, receiver].sort());
  });

  it('a taken port names the settings that move the server', async () => {
    const port = Number(new URL(f.url).port);
    await expect(startServer({ dataDir: f.dir, dbPath: `${f.dir}/poplet.db`, host: '127.0.0.1', port, logRequests: false })).rejects.toThrow(
      `port ${port} on 127.0.0.1 is already in use: stop what listens there, or pick another port with POPLET_PORT or --port`,
    );
  });
});
