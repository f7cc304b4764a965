// Erasure rewrites recovery-journal files while the server keeps appending accepted sign-ups to
// them: from another process (`poplet erase`) and from the server's own DELETE /api1/emails. No
// accepted sign-up may go missing from the journal, and the server must keep answering meanwhile.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, closeSync, constants as fsConstants, existsSync, openSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiAuth, post, signup, startFixture, type Fixture } from './fixture';
import { LOCK_STALE_MS, createJournal, tryLockScrub, journalFiles, pruneJournal, readJournal, scrubJournal, type JournalEntry, type ScrubTarget } from '../../src/server/lifecycle/journal';

const ROOT = join(import.meta.dirname, '../..');
let f: Fixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const entries = (dir: string): JournalEntry[] => journalFiles(dir).flatMap(readJournal);

/** Pads the live journal file with lines of another site, so a scrub takes a while. */
function pad(dir: string, mb: number): number {
  const file = journalFiles(dir).at(-1)!;
  const line = JSON.stringify({
    type: 'signup', at: new Date().toISOString(),
    payload: { id: 'padpadpadpad', site: 'zzzz', wisepop_id: 1, email: 'pad@example.com', fields: { x: 'y'.repeat(300) } },
    meta: { collected_at: new Date().toISOString(), ip: '192.0.2.1', country_code: null },
  }) + '\n';
  const n = Math.ceil((mb * 1024 * 1024) / line.length);
  appendFileSync(file, line.repeat(n));
  return n;
}

/** Posts sign-ups, a few at a time, until `done()`; returns the ids the server accepted (201). */
async function postUntil(fx: Fixture, done: () => boolean): Promise<string[]> {
  const accepted: string[] = [];
  const worker = async () => {
    while (!done()) {
      const body = signup(fx.site);
      const r = await post(`${fx.url}/collect`, body);
      if (r.status === 201) accepted.push(body.id);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return accepted;
}

function expectJournalHolds(dir: string, ids: string[], erased: string, padLines: number): void {
  const all = entries(dir);
  const signups = all.filter((e): e is Extract<JournalEntry, { type: 'signup' }> => e.type === 'signup');
  const present = new Set(signups.map((e) => e.payload.id));
  expect(ids.filter((id) => !present.has(id))).toEqual([]);
  expect(signups.filter((e) => e.payload.email === erased)).toEqual([]);
  expect(signups.filter((e) => e.payload.site === 'zzzz')).toHaveLength(padLines);
  expect(all.filter((e) => e.type === 'erase')).toHaveLength(1);
}

describe('journal scrub while the server appends', () => {
  it('`poplet erase` in another process loses none of the sign-ups accepted meanwhile', async () => {
    f = await startFixture({ collectPerMinute: 0 });
    const fx = f;
    const dir = join(fx.dir, 'journal');
    expect((await post(`${fx.url}/collect`, signup(fx.site, { email: 'victim@example.com' }))).status).toBe(201);
    await new Promise((ok) => setTimeout(ok, 20));
    const padLines = pad(dir, 40);

    const cli = spawn(process.execPath, ['--import', 'tsx', 'src/server/cli.ts', 'erase', '--site', fx.site, 'victim@example.com'], {
      cwd: ROOT,
      env: { ...process.env, POPLET_DATA: fx.dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    cli.stdout.on('data', (d) => (output += d));
    cli.stderr.on('data', (d) => (output += d));
    let exit: number | null | undefined;
    const exited = new Promise<void>((ok) => cli.on('exit', (code) => ((exit = code), ok())));
    const accepted = await postUntil(fx, () => exit !== undefined);
    await exited;
    expect(exit, output).toBe(0);
    expect(output).toMatch(/erased 1 sign-up\(s\), 0 hook delivery record\(s\), 1 journal line\(s\)/);
    expect(accepted.length).toBeGreaterThan(20);
    await new Promise((ok) => setTimeout(ok, 50));
    expectJournalHolds(dir, accepted, 'victim@example.com', padLines);
  });

  it('DELETE /api1/emails streams the scrub: sign-ups keep being accepted and journaled, the event loop is never held long', async () => {
    f = await startFixture({ collectPerMinute: 0, apiPerMinute: 0 });
    const fx = f;
    const dir = join(fx.dir, 'journal');
    expect((await post(`${fx.url}/collect`, signup(fx.site, { email: 'victim@example.com' }))).status).toBe(201);
    await new Promise((ok) => setTimeout(ok, 20));
    const padLines = pad(dir, 40);

    let answered = false;
    const erasing = fetch(`${fx.url}/api1/emails?email=victim%40example.com`, { method: 'DELETE', headers: apiAuth(fx.key) }).then(async (r) => {
      answered = true;
      return { status: r.status, body: (await r.json()) as unknown };
    });
    const accepted = await postUntil(fx, () => answered);
    expect(await erasing).toEqual({ status: 200, body: { deleted: 1, deliveries: 0, purge_due_at: expect.any(String) } });
    // A scrub that read the whole journal in one go held every request until it was done: a few
    // sign-ups got in. Streamed in 1 MB steps, requests are served between the steps. Counted,
    // not timed: a bound on the event loop's longest pause failed on a loaded 2-core machine
    // (a GC pause), and timings belong to `npm run bench`.
    expect(accepted.length).toBeGreaterThan(20);
    expectJournalHolds(dir, accepted, 'victim@example.com', padLines);
  });
});

describe('journal scrub and shutdown', () => {
  it('shutdown does not wait for a scrub lock another process holds: the erasure waiting for it gets its 503', async () => {
    f = await startFixture({ collectPerMinute: 0, apiPerMinute: 0 });
    const fx = f;
    const dir = join(fx.dir, 'journal');
    expect((await post(`${fx.url}/collect`, signup(fx.site, { email: 'victim@example.com' }))).status).toBe(201);
    // A `poplet erase` holds the lock (fresh: it would be waited for up to two minutes).
    writeFileSync(join(dir, '.scrub.lock'), JSON.stringify({ token: 'f00d', host: 'cli', pid: 1, at: new Date().toISOString() }));
    const erasing = fetch(`${fx.url}/api1/emails?email=victim%40example.com`, { method: 'DELETE', headers: apiAuth(fx.key) }).then((r) => r.status);
    await new Promise((ok) => setTimeout(ok, 300));
    const t0 = Date.now();
    await fx.server.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await erasing).toBe(503);
  });
});

describe('journal scrub rules', () => {
  const line = (site: string, email: string, id: string) => ({ id, site, wisepop_id: 1, email, fields: {} });
  const meta = (ms: number) => ({ collected_at: new Date(ms).toISOString(), ip: '192.0.2.1', country_code: null });

  it('removes the address’s lines collected up to the erasure, any case, on that site only; a later sign-up stays', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poplet-scrub-'));
    try {
      const journal = createJournal(dir);
      const t = Date.now();
      journal.append(line('s1', 'Ann@Example.com', 'aaaaaaaaaa1'), meta(t - 1000));
      journal.append(line('s1', ' ann@example.com ', 'aaaaaaaaaa2'), meta(t - 500));
      journal.append(line('s2', 'ann@example.com', 'aaaaaaaaaa3'), meta(t - 500));
      journal.append(line('s1', 'bob@example.com', 'aaaaaaaaaa4'), meta(t - 500));
      // Given again after the erasure: in the database, so it must stay replayable.
      journal.append(line('s1', 'ann@example.com', 'aaaaaaaaaa5'), meta(t + 1));
      journal.close();
      expect(await scrubJournal(dir, [{ site: 's1', email: 'ANN@example.com', before: t }])).toBe(2);
      const ids = journalFiles(dir).flatMap(readJournal).map((e) => (e.type === 'signup' ? e.payload.id : ''));
      expect(ids).toEqual(['aaaaaaaaaa3', 'aaaaaaaaaa4', 'aaaaaaaaaa5']);
      expect(readdirSync(dir).filter((n) => !n.endsWith('.jsonl'))).toEqual([]); // no temporary file, no lock left
      expect(statSync(journalFiles(dir)[0]!).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** A journal holding one line of ann@example.com, and the target erasing it. */
  function annJournal(): { dir: string; target: ScrubTarget[]; lock: string } {
    const dir = mkdtempSync(join(tmpdir(), 'poplet-scrub-'));
    dirs.push(dir);
    const journal = createJournal(dir);
    journal.append(line('s1', 'ann@example.com', 'aaaaaaaaaa1'), meta(Date.now() - 10));
    journal.close();
    return { dir, target: [{ site: 's1', email: 'ann@example.com', before: Date.now() }], lock: join(dir, '.scrub.lock') };
  }
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  /** Sets a file's mtime `ms` in the past: a lock its holder stopped refreshing that long ago. */
  const age = (path: string, ms: number) => utimesSync(path, new Date(Date.now() - ms), new Date(Date.now() - ms));

  it('a live holder with the same pid (both pid 1 in their containers) is waited for, not taken over', async () => {
    const { dir, target, lock } = annJournal();
    writeFileSync(lock, JSON.stringify({ token: 'f00d', host: 'other-container', pid: process.pid, at: new Date().toISOString() }));
    await expect(scrubJournal(dir, target, { lockTimeoutMs: 300 })).rejects.toThrow(/held by another erasure \(host other-container, pid \d+\)/);
    expect(journalFiles(dir).flatMap(readJournal)).toHaveLength(1);
    expect(readFileSync(lock, 'utf8')).toContain('f00d');
  });

  it('a lock its holder stopped refreshing is taken over, even if its pid now names a live process', async () => {
    const { dir, target, lock } = annJournal();
    // The holder crashed a while ago; its pid was given to another process since (our parent: alive).
    writeFileSync(lock, JSON.stringify({ token: 'f00d', host: hostname(), pid: process.ppid, at: new Date().toISOString() }));
    age(lock, LOCK_STALE_MS + 1000);
    expect(await scrubJournal(dir, target, { lockTimeoutMs: 300 })).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  it('an empty or unreadable lock is a holder like any other: waited for while fresh, taken over once stale', async () => {
    const { dir, target, lock } = annJournal();
    writeFileSync(lock, ''); // created, not yet written (the old two-step lock), or a crash between the steps
    await expect(scrubJournal(dir, target, { lockTimeoutMs: 300 })).rejects.toThrow(/held by another erasure/);
    writeFileSync(lock, '{"tok');
    await expect(scrubJournal(dir, target, { lockTimeoutMs: 300 })).rejects.toThrow(/held by another erasure/);
    age(lock, LOCK_STALE_MS + 1000);
    expect(await scrubJournal(dir, target, { lockTimeoutMs: 300 })).toBe(1);
  });

  it('holds the lock with a token, host and pid of its own, written whole; scrubbers of one process take turns', async () => {
    const { dir, target, lock } = annJournal();
    pad(dir, 20);
    const first = scrubJournal(dir, target);
    let seen: unknown;
    while (!existsSync(lock)) await new Promise((ok) => setImmediate(ok));
    seen = JSON.parse(readFileSync(lock, 'utf8'));
    expect(seen).toEqual({ token: expect.stringMatching(/^[0-9a-f]{16}$/), host: hostname(), pid: process.pid, at: expect.any(String) });
    const second = scrubJournal(dir, [{ site: 'zzzz', email: 'pad@example.com', before: Date.now() }]);
    expect(await first).toBe(1);
    expect(await second).toBeGreaterThan(1000);
    expect(readdirSync(dir).filter((n) => !n.endsWith('.jsonl'))).toEqual([]);
  });

  it('a scrub stuck on a hung read does not keep its lock fresh: it can be taken over once stale', async () => {
    const { dir, target, lock } = annJournal();
    const ann = journalFiles(dir)[0]!;
    // A journal file whose open never returns, as on a hung disk or network mount: a FIFO no one writes.
    const fifo = join(dir, 'collect-2099-01-01.0.jsonl');
    execFileSync('mkfifo', [fifo]);
    // A refresh timer would fire here; the scrub's own progress is what must refresh the lock.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const stuck = scrubJournal(dir, target);
      while (!existsSync(lock) || readJournal(ann).length) await new Promise((ok) => setTimeout(ok, 10));
      await new Promise((ok) => setTimeout(ok, 100)); // now in the FIFO's open
      age(lock, LOCK_STALE_MS - 1000);
      vi.advanceTimersByTime(LOCK_STALE_MS);
      expect(Date.now() - statSync(lock).mtimeMs).toBeGreaterThan(LOCK_STALE_MS - 2000);
      age(lock, LOCK_STALE_MS + 1000);
      const other = tryLockScrub(dir);
      expect(other).not.toBeNull();
      // Unblock the open (a writer that comes and goes: the scrub reads an empty file).
      const w = openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
      closeSync(w);
      expect(await stuck).toBe(1);
      expect(readFileSync(lock, 'utf8')).toContain(other!.token); // not deleted by the stuck holder
      other!.release();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a scrub whose lock was taken over (it stalled past the stale time) gives up before replacing any file', async () => {
    const { dir, target, lock } = annJournal();
    pad(dir, 20);
    const before = readFileSync(journalFiles(dir)[0]!);
    const scrub = scrubJournal(dir, target);
    while (!existsSync(lock)) await new Promise((ok) => setImmediate(ok));
    // Another scrubber judged it stale and took it: the lock now names that one.
    writeFileSync(lock, JSON.stringify({ token: 'beef', host: 'h', pid: 1, at: new Date().toISOString() }));
    await expect(scrub).rejects.toThrow(/taken over/);
    expect(readFileSync(journalFiles(dir)[0]!).equals(before)).toBe(true);
    expect(readFileSync(lock, 'utf8')).toContain('beef'); // not released: it is not ours
    expect(readdirSync(dir).filter((n) => n.endsWith('.scrub'))).toEqual([]);
  });

  it('deletes the temporary files of crashed scrubs, when scrubbing and when pruning', async () => {
    const { dir, target } = annJournal();
    const file = journalFiles(dir)[0]!;
    const leftovers = [`${file}.scrub`, `${file}.0123456789abcdef.scrub`];
    for (const l of leftovers) writeFileSync(l, 'a copy of every line but the erased ones\n');
    expect(await scrubJournal(dir, target)).toBe(1);
    expect(leftovers.filter((l) => existsSync(l))).toEqual([]);
    for (const l of leftovers) writeFileSync(l, 'a copy of every line but the erased ones\n');
    expect(pruneJournal(dir, { retentionDays: 0 })).toBe(0);
    expect(leftovers.filter((l) => existsSync(l))).toEqual([]);
    expect(journalFiles(dir)).toEqual([file]);
  });

  it('pruning leaves the temporary file of a running scrub alone: it waits for the next run', async () => {
    const { dir } = annJournal();
    const file = journalFiles(dir)[0]!;
    writeFileSync(join(dir, '.scrub.lock'), JSON.stringify({ token: 'f00d', host: 'h', pid: 1, at: new Date().toISOString() }));
    writeFileSync(`${file}.f00d.scrub`, 'being written\n');
    expect(pruneJournal(dir, { retentionDays: 1, now: Date.now() + 5 * 86_400_000 })).toBe(0);
    expect(existsSync(`${file}.f00d.scrub`)).toBe(true);
    expect(journalFiles(dir)).toEqual([file]);
  });

  it('concurrent DELETE /api1/emails are all answered once their addresses are out of the journal', async () => {
    f = await startFixture({ collectPerMinute: 0, apiPerMinute: 0 });
    const fx = f;
    const dir = join(fx.dir, 'journal');
    const emails = Array.from({ length: 8 }, (_, i) => `gone${i}@example.com`);
    for (const email of emails) expect((await post(`${fx.url}/collect`, signup(fx.site, { email }))).status).toBe(201);
    const kept = signup(fx.site);
    expect((await post(`${fx.url}/collect`, kept)).status).toBe(201);
    await new Promise((ok) => setTimeout(ok, 20));
    const answers = await Promise.all(
      emails.map((email) => fetch(`${fx.url}/api1/emails?email=${encodeURIComponent(email)}`, { method: 'DELETE', headers: apiAuth(fx.key) }).then((r) => r.json())),
    );
    expect(answers).toEqual(emails.map(() => ({ deleted: 1, deliveries: 0, purge_due_at: expect.any(String) })));
    // One purge of the database file for all of them: the first one's due time.
    expect(new Set(answers.map((a) => (a as { purge_due_at: string }).purge_due_at)).size).toBe(1);
    const all = entries(dir);
    expect(all.filter((e) => e.type === 'signup').map((e) => (e.type === 'signup' ? e.payload.id : ''))).toEqual([kept.id]);
    expect(all.filter((e) => e.type === 'erase')).toHaveLength(emails.length);
  });
});
