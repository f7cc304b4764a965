// Erasure rewrites recovery-journal files while the server keeps appending accepted sign-ups to
// them: from another process (`poplet erase`) and from the server's own DELETE /api1/emails. No
// accepted sign-up may go missing from the journal, and the server must keep answering meanwhile.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apiAuth, post, signup, startFixture, type Fixture } from './fixture';
import { createJournal, journalFiles, readJournal, scrubJournal, type JournalEntry } from '../../src/server/lifecycle/journal';

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

    // The server runs in this process: its event loop is this one.
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    let answered = false;
    const erasing = fetch(`${fx.url}/api1/emails?email=victim%40example.com`, { method: 'DELETE', headers: apiAuth(fx.key) }).then(async (r) => {
      answered = true;
      return { status: r.status, body: (await r.json()) as unknown };
    });
    const accepted = await postUntil(fx, () => answered);
    delay.disable();
    expect(await erasing).toEqual({ status: 200, body: { deleted: 1, deliveries: 0 } });
    // A scrub that read the whole journal in one go held every request until it was done: a few
    // sign-ups got in. Streamed in 1 MB steps, requests are served between the steps.
    expect(accepted.length).toBeGreaterThan(20);
    // Each step is a few milliseconds; the bound leaves room for a busy shared machine.
    expect(delay.max / 1e6).toBeLessThan(250);
    expectJournalHolds(dir, accepted, 'victim@example.com', padLines);
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

  it('scrubbers take turns: a live holder is waited for, a dead one’s lock is taken over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poplet-scrub-'));
    try {
      const journal = createJournal(dir);
      journal.append(line('s1', 'ann@example.com', 'aaaaaaaaaa1'), meta(Date.now() - 10));
      journal.close();
      const target = [{ site: 's1', email: 'ann@example.com', before: Date.now() }];
      // Another process is scrubbing (our parent: alive, and not us).
      writeFileSync(join(dir, '.scrub.lock'), JSON.stringify({ pid: process.ppid, at: new Date().toISOString() }));
      await expect(scrubJournal(dir, target, { lockTimeoutMs: 200 })).rejects.toThrow(/held by another erasure/);
      expect(journalFiles(dir).flatMap(readJournal)).toHaveLength(1);
      // A crashed one: its pid is gone.
      const gone = spawn(process.execPath, ['-e', '']);
      await new Promise((ok) => gone.on('exit', ok));
      writeFileSync(join(dir, '.scrub.lock'), JSON.stringify({ pid: gone.pid, at: new Date().toISOString() }));
      expect(await scrubJournal(dir, target, { lockTimeoutMs: 200 })).toBe(1);
      expect(existsSync(join(dir, '.scrub.lock'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
    expect(answers).toEqual(emails.map(() => ({ deleted: 1, deliveries: 0 })));
    const all = entries(dir);
    expect(all.filter((e) => e.type === 'signup').map((e) => (e.type === 'signup' ? e.payload.id : ''))).toEqual([kept.id]);
    expect(all.filter((e) => e.type === 'erase')).toHaveLength(emails.length);
  });
});
