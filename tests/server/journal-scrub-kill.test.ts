// `poplet erase` really killed (SIGKILL) at each step of replacing a journal file, while the server
// appends in the last instant before the replacement: after the scrub's last read of the old file,
// before the rename. That instant's lines (sign-ups, another erasure's erase record) used to live
// only in the old file, which the rename unlinks and only the scrub copied from afterwards: a kill
// right after the rename lost them. At every step, a replay onto a backup taken before must
// rebuild exactly the live database (no sign-up missing, no erased address back), before and after
// the recovery the next retention run or erasure does.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app';
import { backup } from '../../src/server/lifecycle/backup';
import { eraseEmail, eraseRows, journalErasure } from '../../src/server/lifecycle/erase';
import { LOCK_STALE_MS, createJournal, journalFiles, pruneJournal, readJournal } from '../../src/server/lifecycle/journal';
import { addCampaigns } from './fixture';
import { makeEnv, type Env } from './hooks-fixture';
import { eraseKilled, replayedOnto, writePreload } from './scrub-kill';

const dirs: string[] = [];
let env: Env | undefined;
afterEach(() => {
  env?.cleanup();
  env = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});


describe('`poplet erase` killed while it replaces a journal file', () => {
  it('loses no line appended in the last instant, and brings no erased address back, whichever step it dies at', { timeout: 120_000 }, async () => {
    const work = mkdtempSync(join(tmpdir(), 'poplet-scrub-kill-'));
    dirs.push(work);
    const preload = writePreload(work);

    // Old code has no link and no tail: its kill points there never fire, the erase completes.
    for (const point of ['after-rename', 'after-link', 'before-rename', 'before-tail-unlink', 'none']) {
      env?.cleanup();
      const e = (env = makeEnv());
      const jdir = e.deps.config.journalDir;
      addCampaigns(e.deps.db, e.siteId, { 7: [] });
      const app = buildApp(e.deps); // the server, appending to the journal
      const collect = async (email: string) => {
        const r = await app.inject({
          method: 'POST',
          url: '/collect',
          headers: { origin: 'https://shop.example', 'content-type': 'application/json' },
          payload: { id: randomBytes(12).toString('base64url'), site: e.siteId, wisepop_id: 7, email },
        });
        expect(r.statusCode, r.body).toBe(201);
      };
      await collect('victim@example.com');
      await collect('other@example.com');
      for (let i = 0; i < 20; i++) await collect(`before${i}@example.com`);
      const taken = await backup(e.deps, join(e.dir, 'backups')); // holds the victim and the other

      const run = await eraseKilled(e, 'victim@example.com', point, preload, async () => {
        // The last instant: sign-ups accepted and journaled (their writer saw the file unreplaced),
        for (let i = 0; i < 5; i++) await collect(`instant${i}@example.com`);
        // another erasure's erase record (its scrub waits for the lock),
        const other = eraseRows(e.deps.db, e.siteId, 'other@example.com');
        journalErasure(jdir, e.siteId, 'other@example.com', other.at);
        // and a line of the victim collected before the erasure, written late (a writer whose disk
        // was full writes its kept lines once it can): the scrub must not let it through.
        const late = createJournal(jdir);
        late.append(
          { id: 'victim-late-line', site: e.siteId, wisepop_id: 7, email: 'victim@example.com' },
          { collected_at: new Date(Date.now() - 60_000).toISOString(), ip: '192.0.2.1', country_code: null },
        );
        late.close();
      });
      await app.close();
      if (point === 'none') expect(run, run.output).toMatchObject({ code: 0 });
      else expect(run, `${point}: ${run.output}`).toMatchObject({ signal: 'SIGKILL' });

      const live = () => e.deps.db.prepare('SELECT client_id FROM signups ORDER BY client_id').pluck().all() as string[];
      expect(live()).toHaveLength(20 + 5);
      /** The database lost: the backup restored, the journal replayed. */
      const rebuilt = (name: string): string[] => replayedOnto(taken, join(e.dir, `${name}.db`), jdir);
      const journaled = () => journalFiles(jdir).flatMap(readJournal);
      const victimLines = () => journaled().filter((l) => l.type === 'signup' && l.payload.email === 'victim@example.com');

      // Right after the kill, before anything else has run.
      expect(rebuilt('right-after'), point).toEqual(live());

      // The next retention run (at the server's start, then daily), once the dead erase's lock is stale.
      const lock = join(jdir, '.scrub.lock');
      if (point !== 'none') utimesSync(lock, new Date(Date.now() - LOCK_STALE_MS - 1000), new Date(Date.now() - LOCK_STALE_MS - 1000));
      expect(pruneJournal(jdir, { retentionDays: 0 })).toBe(0);
      expect(readdirSync(jdir).filter((n) => !/^collect-.*\.jsonl$/.test(n)), point).toEqual([]);
      const ids = new Set(journaled().map((l) => (l.type === 'signup' ? l.payload.id : '')));
      expect(live().filter((id) => !ids.has(id)), point).toEqual([]);
      // Both erase records (a line carried twice, by the dead scrub and again, is one to replay).
      expect(new Set(journaled().flatMap((l) => (l.type === 'erase' ? [l.email_sha256] : []))).size, point).toBe(2);
      // Replaced: the victim's lines, the late one included, are out; killed before that, they are
      // all still there, until the erasure is run again.
      if (['after-rename', 'before-tail-unlink', 'none'].includes(point)) expect(victimLines(), point).toEqual([]);
      expect(rebuilt('after-recovery'), point).toEqual(live());

      // The erasure run again, as its failure asks.
      await eraseEmail(e.deps.db, e.siteId, 'victim@example.com', jdir);
      expect(victimLines(), point).toEqual([]);
      expect(rebuilt('after-retry'), point).toEqual(live());
    }
  });
});
