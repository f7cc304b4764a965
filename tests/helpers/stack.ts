// The whole Poplet stack for end-to-end tests: the collection server (real SQLite file in a temp
// data dir, hooks allowed to loopback) and the demo website on another 127.0.0.1 port, provisioned
// exactly as `npm start` does it (demo site, key, campaigns, webhook to the demo's receiver).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../src/server/main';
import { provisionSite, registerDemoHook } from '../../demo/provision';
import { startDemoSite, type DemoSite } from '../../demo/site-server';
import type { EmailRow } from '../../src/shared/signup';

export interface Stack {
  /** Collection server base URL (same across restarts). */
  serverUrl: string;
  site: DemoSite;
  siteId: string;
  apiKey: string;
  dataDir: string;
  /** GET /api1/emails with the demo key. */
  emails(query?: Record<string, string>): Promise<EmailRow[]>;
  /** Graceful stop of the collection server (the demo site keeps running). */
  stopServer(): Promise<void>;
  /** Start it again on the same port and data dir. */
  restartServer(): Promise<void>;
  close(): Promise<void>;
}

export async function startStack(): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'poplet-e2e-'));
  const dbPath = join(dataDir, 'poplet.db');
  const config = { dataDir, dbPath, host: '127.0.0.1', allowPrivateHooks: true, logRequests: false };
  const site = await startDemoSite();
  let server: { url: string; close(): Promise<void> } | undefined = await startServer({ ...config, port: 0 });
  const serverUrl = server.url.replace(/\/$/, '');
  const port = Number(new URL(serverUrl).port);
  const { siteId, apiKey } = provisionSite({ dataDir, dbPath, origins: [site.url] });
  await registerDemoHook(serverUrl, apiKey, site.hookUrl);
  site.configure({ serverUrl, siteId, apiKey });

  return {
    serverUrl,
    site,
    siteId,
    apiKey,
    dataDir,
    async emails(query = {}) {
      const r = await fetch(`${serverUrl}/api1/emails?${new URLSearchParams(query)}`, {
        headers: { Authorization: `WISEPOPS-API key="${apiKey}"` },
      });
      if (!r.ok) throw new Error(`/api1/emails → ${r.status} ${await r.text()}`);
      return (await r.json()) as EmailRow[];
    },
    async stopServer() {
      await server?.close();
      server = undefined;
    },
    async restartServer() {
      server = await startServer({ ...config, port });
    },
    async close() {
      await server?.close();
      await site.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
