// A site the retention job deletes (two years without a sign-up, an API call or a counted event:
// a page left open may still send some) while the server runs. The server's own connection deletes it, which
// PRAGMA data_version does not report to that connection: the site cache must still forget it,
// so its requests get the 404 of an unknown site, and its pending event counts must not take
// every other site's counts of that second down with them.
import { afterEach, expect, it } from 'vitest';
import { addCampaigns, captureLog, post, signup, startFixture, type Fixture } from './fixture';
import { retentionPass } from '../../src/server/lifecycle/retention';

let running: Fixture | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

const OLD = '2020-01-01T00:00:00.000Z';
const display = (site: string) => ({ site, events: [{ k: 'display', c: 7, t: Date.now() }] });
const displays = (fx: Fixture, site: string) => fx.count(`SELECT IFNULL(SUM(displays), 0) FROM events_daily WHERE site_id = '${site}'`);

/** Makes the fixture's first site dormant for over two years (from another connection, as an old database would be). */
function dormant(fx: Fixture): void {
  addCampaigns(fx.db, fx.site, { 7: [] });
  addCampaigns(fx.db, fx.other.site, { 7: [] });
  fx.db.prepare('UPDATE sites SET created_at = ?, last_active_at = ? WHERE id = ?').run(OLD, OLD, fx.site);
  fx.db.prepare('UPDATE campaigns SET updated_at = ? WHERE site_id = ?').run(OLD, fx.site);
}

/**
 * A server whose site has been dormant for years, once the retention job's run a second after
 * start is over (the test's own pass then deletes the site), and its log, for the errors.
 */
async function startDormant(): Promise<{ f: Fixture; log: ReturnType<typeof captureLog> }> {
  const log = captureLog();
  const f = (running = await startFixture({ collectPerMinute: 0, eventsPerMinute: 0, retentionDays: 0 }, log));
  await new Promise((ok) => setTimeout(ok, 1_500));
  dormant(f);
  return { f, log };
}

it('answers 404 for a site the retention job deleted, never a 500, and forgets it', async () => {
  const { f, log } = await startDormant();
  // The site is in the cache: a display came in.
  expect((await post(`${f.url}/events`, display(f.site))).status).toBe(204);
  await new Promise((ok) => setTimeout(ok, 1_200)); // its counts are written
  // Counted today, it would be a site in use: dated back with the rest of its activity.
  f.db.prepare('UPDATE events_daily SET day = ? WHERE site_id = ?').run(OLD.slice(0, 10), f.site);
  expect(retentionPass(f.server.deps).sites).toBe(1);

  const c = await post(`${f.url}/collect`, signup(f.site));
  expect(c).toMatchObject({ status: 404, json: { error: 'site: unknown site' } });
  expect((await post(`${f.url}/events`, display(f.site))).status).toBe(404);
  expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
});

it('drops the pending counts of a site deleted before they are written, and keeps every other site\'s', async () => {
  const { f, log } = await startDormant();
  // Pending counts of the dormant site, then it is deleted before the next flush.
  expect((await post(`${f.url}/events`, display(f.site))).status).toBe(204);
  expect(retentionPass(f.server.deps).sites).toBe(1);
  expect((await post(`${f.url}/events`, display(f.other.site), { origin: 'https://other.example' })).status).toBe(204);
  await new Promise((ok) => setTimeout(ok, 1_500));
  expect(displays(f, f.other.site)).toBe(1);
  expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
});
