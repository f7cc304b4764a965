// Erasure finds an address through signups.email_fold and its index, not by folding every row of
// the site in JavaScript: the same rows as before (every letter folded, as the journal scrub
// does), an upgraded database's old rows included, and a query plan with no scan of signups.
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../src/server/store/db';
import { CORE_MIGRATIONS } from '../../src/server/store/schema';
import { HOOKS_MIGRATIONS } from '../../src/server/hooks/schema';
import { addSite } from '../../src/server/store/sites';
import { foldEmail, insertSignups, type NewSignup } from '../../src/server/store/signups';
import { ERASE_MATCH, eraseRows } from '../../src/server/lifecycle/erase';
import { replay } from '../../src/server/lifecycle/replay';
import { createJournal } from '../../src/server/lifecycle/journal';
import type { SignupPayload } from '../../src/shared/signup';
import { addHook, makeEnv, type Env } from './hooks-fixture';

let env: Env | undefined;
const dirs: string[] = [];
afterEach(() => {
  env?.cleanup();
  env = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let n = 0;
const item = (site: string, email: string): NewSignup => ({
  site_id: site, client_id: `c-${++n}`, email, wisepop_id: 1, ip: '192.0.2.1', country_code: null, other_fields: {}, consent: null, variant: null,
});

// Stored addresses, and requests, that differ by case, by letters beyond ASCII, or not at all.
const STORED = ['Élodie@Example.com', 'ÉLODIE@EXAMPLE.COM', 'élodie@example.com', 'elodie@example.com', 'ELODIE@example.com', 'straße@example.com', 'STRASSE@example.com', 'İlker@example.com', 'i̇lker@example.com', 'ilker@example.com'];
const REQUESTS = ['  élodie@EXAMPLE.com ', 'Elodie@example.com', 'STRAẞE@example.com', 'strasse@example.com', 'İLKER@example.com', 'ilker@example.com'];
/** The rule erasure has always applied: the stored address lower-cased by JavaScript, equal to the trimmed request's. */
const oldRule = (stored: string, request: string) => stored.toLowerCase() === request.trim().toLowerCase();

describe('erasure by the stored folded address', () => {
  it('erases exactly the rows the JavaScript fold matches, on that site only, case and Unicode variants included', () => {
    for (const request of REQUESTS) {
      env?.cleanup();
      env = makeEnv();
      const other = addSite(env.deps.db, env.deps.secret, { domain: 'other.example' }).site.id;
      insertSignups(env.deps.db, [...STORED.map((e) => item(env!.siteId, e)), ...STORED.map((e) => item(other, e))]);
      const before = env.deps.db.prepare('SELECT site_id, email FROM signups ORDER BY seq').all() as Array<{ site_id: string; email: string }>;
      const expected = before.filter((r) => !(r.site_id === env!.siteId && oldRule(r.email, request)));
      const r = eraseRows(env.deps.db, env.siteId, request);
      expect(r.signups, request).toBe(before.length - expected.length);
      expect(r.signups, request).toBeGreaterThan(0);
      expect(env.deps.db.prepare('SELECT site_id, email FROM signups ORDER BY seq').all(), request).toEqual(expected);
    }
  });

  it('stores the fold on every row insertSignups and replay write', () => {
    env = makeEnv();
    insertSignups(env.deps.db, [item(env.siteId, 'Zoë@Example.com')]);
    const journal = createJournal(env.deps.config.journalDir);
    const payload = { id: 'replayed-1', site: env.siteId, wisepop_id: 1, email: '  ÅSA@Example.com ', fields: {} } as SignupPayload;
    journal.append(payload, { collected_at: new Date().toISOString(), ip: '192.0.2.1', country_code: null });
    journal.close();
    expect(replay(env.deps, env.deps.config.journalDir)).toMatchObject({ inserted: 1 });
    const rows = env.deps.db.prepare('SELECT email, email_fold FROM signups ORDER BY seq').all();
    expect(rows).toEqual([
      { email: 'Zoë@Example.com', email_fold: 'zoë@example.com' },
      { email: 'ÅSA@Example.com', email_fold: 'åsa@example.com' },
    ]);
    expect(eraseRows(env.deps.db, env.siteId, 'åsa@EXAMPLE.com').signups).toBe(1);
  });

  it('refuses a sign-up row written without its fold: it could never be erased', () => {
    env = makeEnv();
    const raw = env.deps.db.prepare(
      `INSERT INTO signups (site_id, client_id, collected_at, collected_ms, email, wisepop_id, ip) VALUES (?, 'raw', '2024-01-01T00:00:00.000Z', 1, 'a@b.c', 1, '192.0.2.1')`,
    );
    expect(() => raw.run(env!.siteId)).toThrow(/email_fold is required/);
  });

  it('selects the rows through the (site_id, email_fold) index: no scan of signups, nor of hook_deliveries', () => {
    env = makeEnv();
    const plan = (sql: string) =>
      (env!.deps.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(env!.siteId, 'x@example.com') as Array<{ detail: string }>).map((r) => r.detail);
    const select = plan(`SELECT seq FROM signups WHERE ${ERASE_MATCH}`);
    expect(select.join('\n')).toMatch(/SEARCH signups USING (COVERING )?INDEX signups_email_fold \(site_id=\? AND email_fold=\?\)/);
    // The statements eraseRows runs.
    for (const sql of [`DELETE FROM signups WHERE ${ERASE_MATCH}`, `DELETE FROM hook_deliveries WHERE signup_seq IN (SELECT seq FROM signups WHERE ${ERASE_MATCH})`]) {
      const details = plan(sql);
      expect(details.join('\n'), sql).toContain('INDEX signups_email_fold (site_id=? AND email_fold=?)');
      expect(details.filter((d) => /^SCAN /.test(d)), sql).toEqual([]);
    }
  });
});

describe('upgrade from schema version 5', () => {
  it('backfills email_fold in batches for the old rows, which erasure then finds like new ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'poplet-fold-'));
    dirs.push(dir);
    const path = join(dir, 'poplet.db');
    // The previous release's database: every migration but 6, rows written without email_fold.
    const old = new Database(path);
    old.pragma('foreign_keys = ON');
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const m of [...CORE_MIGRATIONS, ...HOOKS_MIGRATIONS].filter((m) => m.version !== 6).sort((a, b) => a.version - b.version)) {
      old.exec(m.sql);
      old.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(m.version, new Date().toISOString());
    }
    expect(old.prepare("SELECT COUNT(*) FROM pragma_table_info('signups') WHERE name = 'email_fold'").pluck().get()).toBe(0);
    const secret = randomBytes(32);
    const site = addSite(old, secret, { domain: 'shop.example' }).site.id;
    const other = addSite(old, secret, { domain: 'other.example' }).site.id;
    const hook = addHook({ db: old } as Parameters<typeof addHook>[0], site, 'https://hooks.example/x');
    const ins = old.prepare(
      `INSERT INTO signups (site_id, client_id, collected_at, collected_ms, email, wisepop_id, ip) VALUES (?, ?, ?, ?, ?, 1, '192.0.2.1')`,
    );
    const emails: Array<[string, string]> = [];
    // More rows than one backfill batch, so the batching is exercised.
    for (let i = 0; i < 12_000; i++) emails.push([site, `user${i}@Example.com`]);
    for (const e of STORED) emails.push([site, e], [other, e]);
    old.transaction(() => emails.forEach(([s, e], i) => ins.run(s, `old-${i}`, new Date(1e12 + i).toISOString(), 1e12 + i, e)))();
    const elodieSeqs = old.prepare("SELECT seq FROM signups WHERE site_id = ? AND email LIKE '%lodie@%'").pluck().all(site) as number[];
    const deliver = old.prepare(`INSERT INTO hook_deliveries (hook_id, signup_seq, created_ms, next_attempt_at) VALUES (?, ?, 0, 0)`);
    for (const seq of elodieSeqs) deliver.run(hook, seq);
    old.close();

    const db = openDb(path);
    try {
      expect(db.prepare('SELECT MAX(version) FROM schema_migrations WHERE version < 100').pluck().get()).toBeGreaterThanOrEqual(6);
      const rows = db.prepare('SELECT email, email_fold FROM signups').all() as Array<{ email: string; email_fold: string | null }>;
      expect(rows).toHaveLength(emails.length);
      expect(rows.filter((r) => r.email_fold !== foldEmail(r.email))).toEqual([]);
      expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'signups_email'").pluck().get()).toBe(0);

      const request = 'ÉLODIE@example.COM';
      const expected = STORED.filter((e) => oldRule(e, request)).length;
      const r = eraseRows(db, site, request);
      expect(r.signups).toBe(expected);
      expect(r.deliveries).toBe(expected);
      expect(db.prepare('SELECT COUNT(*) FROM signups WHERE site_id = ?').pluck().get(site)).toBe(12_000 + STORED.length - expected);
      expect(db.prepare('SELECT COUNT(*) FROM signups WHERE site_id = ?').pluck().get(other)).toBe(STORED.length);
      expect(db.prepare('SELECT COUNT(*) FROM hook_deliveries').pluck().get()).toBe(elodieSeqs.length - expected);
      expect(eraseRows(db, site, 'USER11999@example.com').signups).toBe(1);
    } finally {
      db.close();
    }
  });
});
