// The site cache of the request paths: an edit committed by another connection (the CLI) applies
// from the next turn of the event loop, without a restart; within one turn the version is read once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/server/store/db';
import { loadSecret } from '../../src/server/store/keys';
import { addSite, setTimezone } from '../../src/server/store/sites';
import { importCampaigns } from '../../src/server/store/campaigns';
import { createSiteCache } from '../../src/server/site-cache';
import { testCampaign } from './fixture';

const nextTurn = () => new Promise((ok) => setImmediate(ok));
let open: Db[] = [];
let dir = '';
afterEach(() => {
  for (const db of open) db.close();
  open = [];
  rmSync(dir, { recursive: true, force: true });
});

function setup() {
  dir = mkdtempSync(join(tmpdir(), 'poplet-site-cache-'));
  const server = openDb(join(dir, 'poplet.db'));
  const cli = openDb(join(dir, 'poplet.db'));
  open.push(server, cli);
  const { site } = addSite(server, loadSecret(dir, {}), { domain: 'shop.example' });
  return { server, cli, site: site.id, cache: createSiteCache(server) };
}

describe('site cache', () => {
  it("applies another connection's edit to sites and campaigns from the next turn of the event loop on", async () => {
    const { cli, site, cache } = setup();
    expect(cache.get(site)?.timezone).toBe('UTC');
    expect([...cache.campaignGroups(site).keys()]).toEqual([]);
    await nextTurn();
    setTimezone(cli, site, 'Europe/Paris');
    importCampaigns(cli, site, [testCampaign(7)]);
    await nextTurn();
    expect(cache.get(site)?.timezone).toBe('Europe/Paris');
    expect([...cache.campaignGroups(site).keys()]).toEqual([7]);
    // A site the CLI removed is unknown at once too.
    cli.prepare('DELETE FROM sites WHERE id = ?').run(site);
    await nextTurn();
    expect(cache.get(site)).toBeUndefined();
  });

  it('reads the database version once per turn: lookups in the turn of a commit keep what they read', async () => {
    const { cli, site, cache } = setup();
    expect(cache.get(site)?.timezone).toBe('UTC');
    setTimezone(cli, site, 'Asia/Tokyo');
    expect(cache.get(site)?.timezone).toBe('UTC');
    await nextTurn();
    expect(cache.get(site)?.timezone).toBe('Asia/Tokyo');
  });
});
