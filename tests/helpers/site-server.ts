// A real collection server on a fresh SQLite file with one site and its campaigns, a static page
// server on another origin (the site's allowed one), Chromium, and the site's install snippet:
// what a browser test needs to run the whole SDK against the real server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright';
import { startServer } from '../../src/server/main';
import { silentLog } from '../../src/server/log';
import { openDb } from '../../src/server/store/db';
import { loadSecret } from '../../src/server/store/keys';
import { addSite } from '../../src/server/store/sites';
import { importCampaigns } from '../../src/server/store/campaigns';
import { snippetFor } from '../../src/sdk/snippet';
import type { Campaign } from '../../src/shared/campaign';
import { launchChromium } from './browser';
import { startStaticServer, type StaticServer } from './static-server';

export interface SiteServer {
  browser: Browser;
  /** The site's pages: set them with `pages.pages.set(path, …)`. */
  pages: StaticServer;
  /** The install snippet of the site, pointing at the collection server. */
  snippet: string;
  close(): Promise<void>;
}

export async function startSiteServer(domain: string, campaigns: Campaign[]): Promise<SiteServer> {
  const dir = mkdtempSync(join(tmpdir(), 'poplet-site-'));
  const dbPath = join(dir, 'poplet.db');
  const pages = await startStaticServer();
  const db = openDb(dbPath);
  const { site } = addSite(db, loadSecret(dir, {}), { domain, origins: [pages.url] });
  importCampaigns(db, site.id, campaigns);
  db.close();
  const [browser, server] = await Promise.all([launchChromium(), startServer({ dataDir: dir, dbPath, host: '127.0.0.1', port: 0, logRequests: false }, silentLog)]);
  return {
    browser,
    pages,
    snippet: snippetFor(`${server.url.replace(/\/$/, '')}/poplet.js?site=${site.id}`),
    async close() {
      await browser.close();
      await server.close();
      await pages.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
