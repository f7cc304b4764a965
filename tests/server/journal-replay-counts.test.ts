// Replaying the journal rebuilds the statistics /collect kept: a sign-up counts under a campaign
// the site has or had (countGroup), and one for a campaign the site never had is restored without
// creating a stats row, as /collect stored it.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app';
import { backup, restore } from '../../src/server/lifecycle/backup';
import { replay } from '../../src/server/lifecycle/replay';
import { addCounts, dayIn } from '../../src/server/store/events';
import { addCampaigns } from './fixture';
import { makeEnv, type Env } from './hooks-fixture';

let env: Env | undefined;
afterEach(() => {
  env?.cleanup();
  env = undefined;
});

describe('replay counts sign-ups by the rule /collect counts them by', () => {
  it('rebuilds exactly the stats /collect kept: no row for a campaign the site never had, unknown groups under none', async () => {
    const e = (env = makeEnv());
    // 7 runs an A/B test, 8 none; 555 was deleted but still has /events counts under group x.
    addCampaigns(e.deps.db, e.siteId, { 7: ['a', 'b'], 8: [] });
    addCounts(e.deps.db, { site: e.siteId, campaign: 555, day: dayIn(Date.now(), 'UTC'), variant: 'x' }, { displays: 3 });
    const file = await backup(e.deps, join(e.dir, 'backups'));

    const app = buildApp(e.deps);
    const posts: Array<[number, string | undefined]> = [
      [7, 'a'], [7, 'b'], [7, 'made-up'], [7, undefined], [8, undefined], [8, 'a'],
      [555, 'x'], [555, 'y'], [999, undefined], [999, 'a'],
    ];
    for (const [wisepop_id, variant] of posts) {
      const r = await app.inject({
        method: 'POST',
        url: '/collect',
        headers: { origin: 'https://shop.example', 'content-type': 'application/json' },
        payload: { id: randomBytes(12).toString('base64url'), site: e.siteId, wisepop_id, email: `${randomBytes(4).toString('hex')}@example.com`, variant },
      });
      expect(r.statusCode, r.body).toBe(201);
    }
    await app.close();
    const stats = () => e.deps.db.prepare('SELECT wisepop_id, variant, day, displays, signups FROM events_daily ORDER BY wisepop_id, variant, day').all();
    const collected = stats();
    expect(collected.some((r) => (r as { wisepop_id: number }).wisepop_id === 999)).toBe(false); // what /collect does

    // The database is lost: restore the backup (taken before the sign-ups) and replay the journal.
    const dbPath = e.deps.config.dbPath;
    e.deps.db.close();
    for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) rmSync(f, { force: true });
    restore(file, dbPath);
    e.reopen();
    expect(replay(e.deps, e.deps.config.journalDir)).toEqual({ inserted: posts.length, duplicates: 0, erased: 0, skipped: 0 });
    // Every sign-up is back (999's too: /collect stores them), and the stats are the ones /collect kept.
    expect(e.deps.db.prepare('SELECT COUNT(*) FROM signups').pluck().get()).toBe(posts.length);
    expect(stats()).toEqual(collected);
  });
});
