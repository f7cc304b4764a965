// The purge of the database file is not the erasure's: an erasure deletes the rows and answers at
// once, recording the purge as due (purge_due, in the delete's transaction); the server runs one
// purge for every recorded delete when the first is due, picks up those `poplet erase` recorded,
// runs an overdue one at start, retries a failed one with a backoff. `poplet purge` runs it alone
// or has the running server run it. No timed assertion: waits are for states, with a deadline.
import { afterEach, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from '../../src/server/cli';
import { loadConfig } from '../../src/server/config';
import { eraseRows } from '../../src/server/lifecycle/erase';
import { pendingPurge, purgeAlone, startPurgeJob } from '../../src/server/lifecycle/purge';
import { startServer, type RunningServer } from '../../src/server/main';
import { openDb } from '../../src/server/store/db';
import { loadSecret } from '../../src/server/store/keys';
import { insertSignups } from '../../src/server/store/signups';
import { addSite } from '../../src/server/store/sites';
import { silentLog } from '../../src/server/log';
import { apiAuth, captureLog, dbBytes, found, person, startFixture, watchVacuums, type Fixture } from './fixture';
import { makeEnv, waitFor, type Env } from './hooks-fixture';

const ROOT = resolve(import.meta.dirname, '../..');
let fx: Fixture | undefined;
let env: Env | undefined;
let server: RunningServer | undefined;
const dirs: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await fx?.close();
  fx = undefined;
  await server?.close();
  server = undefined;
  env?.cleanup();
  env = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});


/** Runs the CLI in this process with `extra` in its environment, returning its output. */
async function cli(dataDir: string, extra: Record<string, string>, ...argv: string[]): Promise<string[]> {
  const saved = Object.fromEntries(Object.keys(extra).map((k) => [k, process.env[k]]));
  Object.assign(process.env, extra);
  const lines: string[] = [];
  try {
    await run([...argv, '--data', dataDir], (l) => lines.push(l));
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return lines;
}

describe('an erasure answers before the purge', () => {
  it('DELETE /api1/emails deletes the rows and answers with no VACUUM run, saying when the purge is due', async () => {
    fx = await startFixture({ collectPerMinute: 0 });
    const dbPath = join(fx.dir, 'poplet.db');
    insertSignups(fx.db, [person(fx.site, 'answer.first@example.net', { phone: '+33 1 23 45 67 89' }), ...Array.from({ length: 40 }, (_, i) => person(fx!.site, `other${i}@example.net`))]);
    const vacuums = watchVacuums();
    const asked = Date.now();
    const res = await fetch(`${fx.url}/api1/emails?email=answer.first%40example.net`, { method: 'DELETE', headers: apiAuth(fx.key) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { deleted: number; deliveries: number; purge_due_at: string };
    expect(vacuums).toEqual([]);
    expect(body).toEqual({ deleted: 1, deliveries: 0, purge_due_at: expect.any(String) });
    // POPLET_PURGE_WITHIN's default: an hour after the erasure.
    expect(Date.parse(body.purge_due_at)).toBeGreaterThanOrEqual(asked + 60 * 60_000);
    expect(fx.count(`SELECT COUNT(*) FROM signups WHERE email_fold = 'answer.first@example.net'`)).toBe(0);
    // A second erasure shares the first one's purge: the due time does not move.
    const again = (await (await fetch(`${fx.url}/api1/emails?email=other1%40example.net`, { method: 'DELETE', headers: apiAuth(fx.key) })).json()) as { purge_due_at: string };
    expect(again.purge_due_at).toBe(body.purge_due_at);
    expect(pendingPurge(fx.db)).toMatchObject({ count: 2, dueAt: Date.parse(body.purge_due_at) });
    expect(vacuums).toEqual([]);
    // The file still holds what secure_delete does not reach until then; not asserted either way.
    expect(existsSync(dbPath)).toBe(true);
  });

  it('POPLET_PURGE_WITHIN=0: the answer waits for the purge, as before', async () => {
    fx = await startFixture({ collectPerMinute: 0, purgeWithinMinutes: 0 });
    insertSignups(fx.db, [person(fx.site, 'at.once@example.net', { phone: '+33 1 99 88 77 66' }), ...Array.from({ length: 20 }, (_, i) => person(fx!.site, `stay${i}@example.net`))]);
    const vacuums = watchVacuums();
    const res = await fetch(`${fx.url}/api1/emails?email=at.once%40example.net`, { method: 'DELETE', headers: apiAuth(fx.key) });
    expect(res.status).toBe(200);
    expect(vacuums.length).toBeGreaterThan(0);
    expect(pendingPurge(fx.db)).toBeUndefined();
    expect(found(dbBytes(join(fx.dir, 'poplet.db')), ['at.once@example.net', '+33 1 99 88 77 66'])).toEqual([]);
  });
});

describe('the server runs the purges recorded', () => {
  it('`poplet erase` records the purge and never VACUUMs; the running server runs it', async () => {
    fx = await startFixture({ collectPerMinute: 0, purgeCheckMs: 50 });
    const dbPath = join(fx.dir, 'poplet.db');
    insertSignups(fx.db, [person(fx.site, 'cli.victim@example.net', { phone: '+44 161 496 0000' }), ...Array.from({ length: 40 }, (_, i) => person(fx!.site, `other${i}@example.net`))]);
    const vacuums = watchVacuums();
    // The CLI's environment asks for it at once; the server's own setting is an hour.
    const out = await cli(fx.dir, { POPLET_PURGE_WITHIN: '0' }, 'erase', '--site', fx.site, 'CLI.Victim@example.net');
    expect(out[0]).toMatch(/^erased 1 sign-up\(s\)/);
    expect(out[1]).toMatch(/purged of them by .*poplet purge/);
    // The server's job may already be at it (it checks every 50 ms): only the CLI must not.
    expect(vacuums.filter((db) => db !== fx!.server.deps.db)).toEqual([]);
    await waitFor(() => pendingPurge(fx!.db) === undefined, 20_000, 'the server runs the purge the CLI recorded');
    expect(vacuums.length).toBeGreaterThan(0);
    expect(vacuums.every((db) => db === fx!.server.deps.db)).toBe(true);
    expect(found(dbBytes(dbPath), ['cli.victim@example.net', 'CLI.Victim@example.net', '+44 161 496 0000'])).toEqual([]);
  });

  it('a purge the server\'s own POPLET_PURGE_WITHIN makes due sooner than the recorded one runs by the server\'s', async () => {
    fx = await startFixture({ collectPerMinute: 0, purgeCheckMs: 50, purgeWithinMinutes: 0 });
    insertSignups(fx.db, [person(fx.site, 'sooner@example.net'), person(fx.site, 'stay@example.net')]);
    // Recorded by a CLI with the default hour (read from what it prints: the server, checking
    // every 50 ms, may have run the purge before the record could be looked at).
    const asked = Date.now();
    const out = await cli(fx.dir, {}, 'erase', '--site', fx.site, 'sooner@example.net');
    const due = Date.parse(/purged of them by (\S+),/.exec(out[1])![1]);
    expect(due).toBeGreaterThanOrEqual(asked + 60 * 60_000);
    await waitFor(() => pendingPurge(fx!.db) === undefined, 20_000, 'the server runs it by its own, shorter, delay');
  });

  it('a restart with an overdue purge runs it at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poplet-overdue-'));
    dirs.push(dir);
    const dbPath = join(dir, 'poplet.db');
    const db = openDb(dbPath);
    const site = addSite(db, loadSecret(dir, {}), { domain: 'shop.example' }).site.id;
    insertSignups(db, [person(site, 'overdue@example.net', { phone: '+1 202 555 0147' }), ...Array.from({ length: 40 }, (_, i) => person(site, `stay${i}@example.net`))]);
    // Erased with the purge due at once, then the server was stopped before it ran.
    eraseRows(db, site, 'overdue@example.net', 0);
    db.close();
    const vacuums = watchVacuums();
    // Checks every minute: only the check at start can run it in this test.
    server = await startServer({ dataDir: dir, dbPath, host: '127.0.0.1', port: 0, logRequests: false, purgeCheckMs: 60_000 }, silentLog);
    await waitFor(() => pendingPurge(server!.deps.db) === undefined, 20_000, 'the overdue purge at start');
    expect(vacuums).toHaveLength(1);
    expect(found(dbBytes(dbPath), ['overdue@example.net', '+1 202 555 0147'])).toEqual([]);
  });

  it('the due time survives a crash of the process that erased (kill -9 right after the erasure)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poplet-due-crash-'));
    dirs.push(dir);
    const dbPath = join(dir, 'poplet.db');
    const setup = openDb(dbPath);
    const site = addSite(setup, loadSecret(dir, {}), { domain: 'shop.example' }).site.id;
    insertSignups(setup, [person(site, 'crash.victim@example.net'), person(site, 'stay@example.net')]);
    setup.close();
    const script = join(dir, 'erase-and-die.ts');
    writeFileSync(
      script,
      `import { openDb } from ${JSON.stringify(join(ROOT, 'src/server/store/db.ts'))};
import { eraseRows } from ${JSON.stringify(join(ROOT, 'src/server/lifecycle/erase.ts'))};
import { pendingPurge } from ${JSON.stringify(join(ROOT, 'src/server/lifecycle/purge.ts'))};
const db = openDb(${JSON.stringify(dbPath)});
eraseRows(db, ${JSON.stringify(site)}, 'crash.victim@example.net');
process.stdout.write(String(pendingPurge(db).dueAt) + '\\n', () => process.kill(process.pid, 'SIGKILL'));
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let printed = '';
    child.stdout.on('data', (d: Buffer) => (printed += d.toString()));
    const signal = await new Promise<string | null>((ok) => child.once('exit', (_code, sig) => ok(sig)));
    expect(signal).toBe('SIGKILL');
    const due = Number(printed.trim());
    expect(due).toBeGreaterThan(Date.now() + 59 * 60_000);
    // The WAL the dead process left is read by the next connection.
    const db = openDb(dbPath);
    try {
      expect(db.prepare('SELECT COUNT(*) FROM signups').pluck().get()).toBe(1);
      expect(pendingPurge(db)).toMatchObject({ count: 1, dueAt: due });
    } finally {
      db.close();
    }
  });

  it('a failed purge stays recorded, is logged, and is retried after a backoff', async () => {
    env = makeEnv({ POPLET_PURGE_WITHIN: '0' });
    const log = captureLog();
    env.deps.log = log;
    eraseRows(env.deps.db, env.siteId, 'nobody@example.net', 0);
    // Another process holds the write lock: the VACUUM cannot start.
    env.deps.db.pragma('busy_timeout = 0');
    const other = new Database(env.deps.config.dbPath);
    other.exec('BEGIN IMMEDIATE');
    const job = startPurgeJob(env.deps, { checkMs: 50 });
    try {
      await waitFor(() => log.lines.some((l) => l.msg === 'purge job: the purge failed, retrying'), 10_000, 'the failure');
      const failure = log.lines.find((l) => l.msg === 'purge job: the purge failed, retrying')!;
      expect(failure.fields).toMatchObject({ failures: 1, retry_in_ms: 60_000, deletes: 1 });
      expect(log.lines.filter((l) => l.msg === 'database purge failed')).toHaveLength(1);
      expect(pendingPurge(env.deps.db)?.count).toBe(1);
      // Not tried again at each check: after the backoff.
      expect(job.dueAt()).toBeGreaterThanOrEqual(Date.now() + 50_000);
    } finally {
      other.exec('ROLLBACK');
      other.close();
      await job.stop();
    }
  });
});

describe('poplet purge', () => {
  it('with no server running, purges the file itself', async () => {
    env = makeEnv();
    const { db } = env.deps;
    insertSignups(db, [person(env.siteId, 'purge.here@example.net', { phone: '+61 2 5550 1234' }), ...Array.from({ length: 30 }, (_, i) => person(env!.siteId, `stay${i}@example.net`))]);
    eraseRows(db, env.siteId, 'purge.here@example.net');
    db.close();
    const out = await cli(env.dir, {}, 'purge');
    expect(out).toEqual([expect.stringMatching(/^database file purged \(\d+ ms\)$/)]);
    env.reopen();
    expect(pendingPurge(env.deps.db)).toBeUndefined();
    expect(found(dbBytes(env.deps.config.dbPath), ['purge.here@example.net', '+61 2 5550 1234'])).toEqual([]);
  });

  it('with a server running, never VACUUMs itself: it has the server run it now', async () => {
    fx = await startFixture({ collectPerMinute: 0, purgeCheckMs: 50 });
    insertSignups(fx.db, [person(fx.site, 'by.server@example.net', { phone: '+61 2 5550 9876' }), ...Array.from({ length: 30 }, (_, i) => person(fx!.site, `stay${i}@example.net`))]);
    // Due in an hour (the default).
    await cli(fx.dir, {}, 'erase', '--site', fx.site, 'by.server@example.net');
    const vacuums = watchVacuums();
    const out = await cli(fx.dir, {}, 'purge');
    expect(out[0]).toMatch(/a running server/);
    expect(out[1]).toMatch(/^database file purged by the running server/);
    expect(vacuums.length).toBeGreaterThan(0);
    expect(vacuums.every((db) => db === fx!.server.deps.db)).toBe(true);
    expect(pendingPurge(fx.db)).toBeUndefined();
    expect(found(dbBytes(join(fx.dir, 'poplet.db')), ['by.server@example.net', '+61 2 5550 9876'])).toEqual([]);
  });

  it('gives up waiting for a server that does not purge, and leaves the purge recorded', async () => {
    env = makeEnv();
    // Another connection has the database open (a server not running its job).
    await expect(purgeAlone(env.deps.config.dbPath, { waitMs: 300, pollMs: 20, tries: 1 })).rejects.toThrow(/has not purged the database file/);
    expect(pendingPurge(env.deps.db)).toMatchObject({ count: 1 });
  });
});

describe('POPLET_PURGE_WITHIN', () => {
  it('is minutes, 60 by default, 0 allowed, over two days refused', () => {
    expect(loadConfig({}).purgeWithinMinutes).toBe(60);
    expect(loadConfig({ POPLET_PURGE_WITHIN: '0' }).purgeWithinMinutes).toBe(0);
    expect(loadConfig({ POPLET_PURGE_WITHIN: '2880' }).purgeWithinMinutes).toBe(2880);
    expect(() => loadConfig({ POPLET_PURGE_WITHIN: '2881' })).toThrow(/POPLET_PURGE_WITHIN must be at most 2880 minutes/);
    expect(() => loadConfig({ POPLET_PURGE_WITHIN: 'soon' })).toThrow(/POPLET_PURGE_WITHIN/);
  });
});
