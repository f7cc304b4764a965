// What a `poplet erase` SIGKILLed right after it replaced a journal file leaves (the old file under
// a second name, `<file>.<token>.<offset>.tail`, holding the address being erased and the lines
// appended in its last instant) must not wait a day for the retention job: a server started within
// the minute the dead erase's lock stays fresh used to skip the recovery at its first run and try
// again 24 hours later. And `replay FILE` (one journal file, not the folder) must read that
// file's tail, as a replay of the folder does. Real files, real SQLite, a real killed CLI process;
// the job's timers and clock are vitest's fake ones (the lock's time stamp is the real file's).
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/server/app';
import { backup } from '../../src/server/lifecycle/backup';
import { LOCK_STALE_MS, journalFiles, readJournal, tryLockScrub } from '../../src/server/lifecycle/journal';
import { startRetentionJob } from '../../src/server/lifecycle/retention';
import { addCampaigns, captureLog } from './fixture';
import { makeEnv, type Env } from './hooks-fixture';
import { eraseKilled, replayedOnto, writePreload } from './scrub-kill';

const DAY = 86_400_000;

const dirs: string[] = [];
let env: Env | undefined;
afterEach(() => {
  vi.useRealTimers();
  env?.cleanup();
  env = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A journal after `poplet erase` of victim@example.com was killed right after its rename, with
 * five sign-ups journaled in its last instant (in the old file only: its tail). `live`: the
 * database's sign-ups; `taken`: a backup from before the erasure.
 */
async function killedErase(): Promise<{ e: Env; jdir: string; taken: string; live: string[]; instant: string[] }> {
  const work = mkdtempSync(join(tmpdir(), 'poplet-scrub-recovery-'));
  dirs.push(work);
  const preload = writePreload(work);
  const e = (env = makeEnv());
  const jdir = e.deps.config.journalDir;
  addCampaigns(e.deps.db, e.siteId, { 7: [] });
  const app = buildApp(e.deps);
  const instant: string[] = [];
  const collect = async (email: string): Promise<string> => {
    const id = randomBytes(12).toString('base64url');
    const r = await app.inject({
      method: 'POST',
      url: '/collect',
      headers: { origin: 'https://shop.example', 'content-type': 'application/json' },
      payload: { id, site: e.siteId, wisepop_id: 7, email },
    });
    expect(r.statusCode, r.body).toBe(201);
    return id;
  };
  await collect('victim@example.com');
  for (let i = 0; i < 10; i++) await collect(`before${i}@example.com`);
  const taken = await backup(e.deps, join(e.dir, 'backups'));

  const run = await eraseKilled(e, 'victim@example.com', 'after-rename', preload, async () => {
    for (let i = 0; i < 5; i++) instant.push(await collect(`instant${i}@example.com`));
  });
  expect(run, run.output).toMatchObject({ signal: 'SIGKILL' });
  await app.close();

  const live = e.deps.db.prepare('SELECT client_id FROM signups ORDER BY client_id').pluck().all() as string[];
  expect(live).toHaveLength(10 + 5);
  // The kill left the tail (the whole old file: the victim's line too) and the dead erase's lock.
  const names = readdirSync(jdir);
  expect(names.filter((n) => n.endsWith('.tail'))).toHaveLength(1);
  expect(names).toContain('.scrub.lock');
  return { e, jdir, taken, live, instant };
}

/** Every file of the journal folder that holds the address (by name, in any form a line has it). */
const holding = (jdir: string, email: string) => readdirSync(jdir).filter((n) => readFileSync(join(jdir, n), 'utf8').includes(email));

describe('recovery of a killed erase', () => {
  it('the retention job started within the minute after the kill recovers once the dead lock is stale, not a day later', { timeout: 60_000 }, async () => {
    const { e, jdir, live, instant } = await killedErase();
    const log = captureLog();
    e.deps.log = log;
    const retentionRuns = () => log.lines.filter((l) => l.msg === 'retention');

    // The server starts right away: its first retention run finds the lock fresh.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const job = startRetentionJob(e.deps);
    try {
      await vi.advanceTimersByTimeAsync(1_000);
      expect(retentionRuns()).toHaveLength(1);
      expect(retentionRuns()[0]!.fields).toMatchObject({ journalFiles: 0, journalLockedUntil: expect.any(Number) });
      expect(holding(jdir, 'victim@example.com').filter((n) => n.endsWith('.tail'))).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(2); // the daily run, and the retry

      // Once the lock would be stale (a minute after the dead erase last touched it), not in 24 h.
      await vi.advanceTimersByTimeAsync(LOCK_STALE_MS + 5_000);
      expect(retentionRuns()).toHaveLength(2);
      expect(retentionRuns()[1]!.fields).toMatchObject({ journalLockedUntil: null });
      expect(readdirSync(jdir).filter((n) => !/^collect-.*\.jsonl$/.test(n))).toEqual([]);
      expect(holding(jdir, 'victim@example.com')).toEqual([]);
      const ids = new Set(journalFiles(jdir).flatMap(readJournal).map((l) => (l.type === 'signup' ? l.payload.id : '')));
      expect(instant.filter((id) => !ids.has(id))).toEqual([]);
      expect(live.filter((id) => !ids.has(id))).toEqual([]);
      expect(vi.getTimerCount()).toBe(1); // the daily run only
    } finally {
      job.stop();
    }
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a lock that stays held is retried a bounded number of times, then left to the daily run; stop() leaves no timer', { timeout: 30_000 }, async () => {
    const e = (env = makeEnv());
    const jdir = e.deps.config.journalDir;
    const log = captureLog();
    e.deps.log = log;
    const retentionRuns = () => log.lines.filter((l) => l.msg === 'retention');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    // A scrub that runs on and on, touching its lock (fake-clock time stamps) as it goes.
    mkdirSync(jdir, { recursive: true });
    const held = tryLockScrub(jdir)!;
    expect(held).not.toBeNull();
    const start = Date.now();
    const job = startRetentionJob(e.deps);
    try {
      await vi.advanceTimersByTimeAsync(1_000);
      for (let i = 0; i < 20; i++) {
        held.refresh();
        await vi.advanceTimersByTimeAsync(LOCK_STALE_MS / 2);
      }
      const runs = retentionRuns().length;
      expect(runs).toBeGreaterThan(1); // retried
      expect(runs).toBeLessThan(10); // not forever
      expect(log.lines.filter((l) => l.level === 'warn' && /scrub lock stayed held/.test(l.msg ?? ''))).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(1); // the daily run only

      // The next daily run tries afresh (and retries), and stop() clears its pending retry.
      await vi.advanceTimersByTimeAsync(start + DAY - 10_000 - Date.now());
      expect(retentionRuns().length).toBe(runs);
      held.refresh();
      await vi.advanceTimersByTimeAsync(11_000);
      expect(retentionRuns().length).toBe(runs + 1);
      expect(vi.getTimerCount()).toBe(2);
    } finally {
      job.stop();
      held.release();
    }
    expect(vi.getTimerCount()).toBe(0);
  });

  it('`replay FILE` reads the tails of that file left beside it, as a replay of the folder does', { timeout: 60_000 }, async () => {
    const { e, jdir, taken, live } = await killedErase();
    const [file, ...others] = journalFiles(jdir);
    expect(others).toEqual([]);
    const rebuilt = (name: string, journal: string): string[] => replayedOnto(taken, join(e.dir, `${name}.db`), journal);
    expect(rebuilt('folder', jdir)).toEqual(live);
    expect(rebuilt('file', file!)).toEqual(live);
  });
});
