// A real collection server on 127.0.0.1 over a real SQLite file in a fresh temp folder, with one
// site (or more) and their API keys, for the server tests.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { vi } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/server/main';
import type { ServerConfig } from '../../src/server/config';
import Database from 'better-sqlite3';
import { openDb, type Db } from '../../src/server/store/db';
import { CORE_MIGRATIONS } from '../../src/server/store/schema';
import { HOOKS_MIGRATIONS } from '../../src/server/hooks/schema';
import { loadSecret } from '../../src/server/store/keys';
import { addSite } from '../../src/server/store/sites';
import { silentLog, type Log } from '../../src/server/log';
import { importCampaigns } from '../../src/server/store/campaigns';
import type { Campaign } from '../../src/shared/campaign';
import type { NewSignup } from '../../src/server/store/signups';

export const ORIGIN = 'https://shop.example';

export interface Fixture {
  url: string;
  dir: string;
  server: RunningServer;
  db: Db;
  site: string;
  key: string;
  /** A second site, to test cross-site keys. */
  other: { site: string; key: string };
  count(sql?: string): number;
  close(): Promise<void>;
}

export async function startFixture(config: Partial<ServerConfig> = {}, log: Log = silentLog): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'poplet-server-'));
  const dbPath = join(dir, 'poplet.db');
  const setup = openDb(dbPath);
  const secret = loadSecret(dir, {});
  const a = addSite(setup, secret, { domain: 'shop.example', origins: [ORIGIN] });
  const b = addSite(setup, secret, { domain: 'other.example' });
  setup.close();
  const server = await startServer(
    { dataDir: dir, dbPath, host: '127.0.0.1', port: 0, logRequests: false, ...config },
    log,
  );
  // A second connection for assertions, as an operator would have.
  const db = openDb(dbPath);
  return {
    url: server.url,
    dir,
    server,
    db,
    site: a.site.id,
    key: a.key,
    other: { site: b.site.id, key: b.key },
    count: (sql = 'SELECT COUNT(*) FROM signups') => db.prepare(sql).pluck().get() as number,
    async close() {
      await server.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let n = 0;
/** A minimal valid campaign: `/events` counts only the site's campaigns and their groups. */
export function testCampaign(id: number, over: Partial<Campaign> = {}): Campaign {
  return {
    id,
    name: `Campaign ${id}`,
    status: 'live',
    trigger: { type: 'landing' },
    layout: { type: 'popup' },
    content: { label: 'Hi', steps: [{ blocks: [{ type: 'heading', text: 'Hi' }] }], success: { blocks: [{ type: 'heading', text: 'Thanks' }] } },
    ...over,
  };
}

/** Imports campaigns with these A/B variant ids (none: no test) through another connection, as the CLI does. */
export function addCampaigns(db: Db, site: string, spec: Record<number, string[]>): void {
  importCampaigns(
    db,
    site,
    Object.entries(spec).map(([id, variants]) =>
      testCampaign(Number(id), variants.length ? { variants: variants.map((v) => ({ id: v, weight: 1 })), control: 10 } : {}),
    ),
  );
}

/** A log that keeps its lines, for tests of what the server tells the operator. */
export function captureLog(): Log & { lines: Array<{ level: string; msg?: string; fields: Record<string, unknown> }> } {
  const lines: Array<{ level: string; msg?: string; fields: Record<string, unknown> }> = [];
  const at = (level: string) => (fields: object, msg?: string) => void lines.push({ level, msg, fields: { ...fields } });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** A valid sign-up body with a fresh id. */
export function signup(site: string, extra: Record<string, unknown> = {}) {
  n += 1;
  return {
    id: `test-${process.pid}-${Date.now().toString(36)}-${n}`.slice(0, 64),
    site,
    wisepop_id: 7,
    email: `person${n}@example.com`,
    fields: { City: 'Lyon' },
    ...extra,
  };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON: json stays null so the assertion shows it */
  }
  return { status: res.status, headers: res.headers, json: json as Record<string, unknown> | null, text };
}

export const apiAuth = (key: string) => ({ authorization: `WISEPOPS-API key="${key}"` });

export async function getJson(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as unknown) : null };
}

/**
 * A database file as an earlier release left it: the core migrations before `before` and the
 * hooks' applied, with sites s1 and s2. For tests of the migration numbered `before`.
 */
export function databaseBefore(path: string, before: number): Database.Database {
  const old = new Database(path);
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  for (const m of [...CORE_MIGRATIONS.filter((x) => x.version < before), ...HOOKS_MIGRATIONS]) {
    old.exec(m.sql);
    old.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(m.version, '2026-01-01T00:00:00.000Z');
  }
  const site = old.prepare(`INSERT INTO sites (id, domain, key_hash, key_enc, created_at) VALUES (?, 'shop.example', ?, 'x', '2026-01-01T00:00:00.000Z')`);
  site.run('s1', 'h1');
  site.run('s2', 'h2');
  return old;
}

/** The database file and its WAL, as a disk image would show them. */
export const dbBytes = (path: string): Buffer =>
  Buffer.concat([readFileSync(path), existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`) : Buffer.alloc(0)]);

/** The needles found in `bytes` (SQLite stores text as UTF-8). */
export const found = (bytes: Buffer, needles: string[]) => needles.filter((n) => bytes.includes(Buffer.from(n, 'utf8')));

/** A sign-up of `email` on `site` for insertSignups, with these fields. */
export const person = (site: string, email: string, fields: Record<string, string> = {}): NewSignup => ({
  site_id: site, client_id: randomBytes(10).toString('base64url'), email, wisepop_id: 7, ip: '203.0.113.9',
  country_code: 'FR', other_fields: fields, consent: null, variant: null,
});

/** Every VACUUM run from now on (until vi.restoreAllMocks), with the connection that ran it. */
export function watchVacuums(): Array<Database.Database> {
  const by: Array<Database.Database> = [];
  const exec = Database.prototype.exec;
  vi.spyOn(Database.prototype, 'exec').mockImplementation(function (this: Database.Database, sql: string) {
    if (/^\s*VACUUM\s*$/i.test(sql)) by.push(this);
    return exec.call(this, sql);
  });
  return by;
}
