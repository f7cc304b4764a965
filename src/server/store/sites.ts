// Sites: the tenants of one server, each with its API key, allowed origins and time zone.
import { customAlphabet } from 'nanoid';
import type { Db } from './db';
import { encryptKey, hashKey, newApiKey } from './keys';

export interface Site {
  id: string;
  domain: string;
  origins: string[];
  timezone: string;
  created_at: string;
  last_active_at: string | null;
}

interface SiteRow extends Omit<Site, 'origins'> {
  origins: string;
  key_hash: string;
}

// Lower-case letters and digits: safe in URLs, snippets and file names, easy to read aloud.
const siteId = customAlphabet('0123456789abcdefghijklmnopqrstuvwxyz', 12);

const toSite = (r: SiteRow): Site => ({
  id: r.id,
  domain: r.domain,
  origins: JSON.parse(r.origins) as string[],
  timezone: r.timezone,
  created_at: r.created_at,
  last_active_at: r.last_active_at,
});

/** `https://Example.com/` → `https://example.com`; throws on anything that is not an http(s) origin. */
export function normalizeOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`not an origin: ${value}`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.pathname.length > 1 || url.search || url.hash || url.username) {
    throw new Error(`not an origin (scheme://host[:port] only): ${value}`);
  }
  return url.origin;
}

export function normalizeDomain(value: string): string {
  const d = value.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*(:\d+)?$/.test(d)) throw new Error(`not a domain: ${value}`);
  return d;
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export interface NewSite {
  domain: string;
  /** Default: https://domain and https://www.domain. */
  origins?: string[];
  timezone?: string;
}

/** Creates a site; the returned key is the only time it is ever visible. */
export function addSite(db: Db, secret: Buffer, input: NewSite): { site: Site; key: string } {
  const domain = normalizeDomain(input.domain);
  const bare = domain.replace(/^www\./, '');
  const origins = (input.origins?.length ? input.origins : [`https://${bare}`, `https://www.${bare}`]).map(normalizeOrigin);
  const timezone = input.timezone ?? 'UTC';
  if (!isTimeZone(timezone)) throw new Error(`unknown time zone: ${timezone}`);
  const key = newApiKey();
  const id = siteId();
  db.prepare(
    'INSERT INTO sites (id, domain, key_hash, key_enc, origins, timezone, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run(id, domain, hashKey(key), encryptKey(secret, key), JSON.stringify([...new Set(origins)]), timezone, new Date().toISOString());
  return { site: getSite(db, id)!, key };
}

export function getSite(db: Db, id: string): Site | undefined {
  const row = db.prepare('SELECT * FROM sites WHERE id = ?').get(id) as SiteRow | undefined;
  return row && toSite(row);
}

export function listSites(db: Db): Site[] {
  return (db.prepare('SELECT * FROM sites ORDER BY created_at').all() as SiteRow[]).map(toSite);
}

/** The site owning a key hash (callers compare the hash again in constant time). */
export function siteByKeyHash(db: Db, keyHash: string): (Site & { key_hash: string }) | undefined {
  const row = db.prepare('SELECT * FROM sites WHERE key_hash = ?').get(keyHash) as SiteRow | undefined;
  return row && { ...toSite(row), key_hash: row.key_hash };
}

const prepareTouch = (db: Db) =>
  db.prepare<[string, string, string]>('UPDATE sites SET last_active_at = ? WHERE id = ? AND (last_active_at IS NULL OR last_active_at < ?)');
const touchStatements = new WeakMap<Db, ReturnType<typeof prepareTouch>>();

/**
 * Stamps the site as active: the retention job deletes sites inactive for two years, and the
 * data-security policy counts API use and admin activity as activity, not only collection.
 * At most once per UTC day: a day's precision is plenty for two years, and an API poller would
 * otherwise write the sites table (and fsync) on every call. So last_active_at is the first
 * activity of the latest active day.
 */
export function touchSite(db: Db, id: string, now = Date.now()): void {
  let st = touchStatements.get(db);
  if (!st) touchStatements.set(db, (st = prepareTouch(db)));
  const iso = new Date(now).toISOString();
  st.run(iso, id, iso.slice(0, 10) + 'T00:00:00.000Z');
}

/** New key; the old one stops working at once. */
export function rotateKey(db: Db, secret: Buffer, id: string): string {
  const key = newApiKey();
  const r = db
    .prepare('UPDATE sites SET key_hash = ?, key_enc = ?, last_active_at = ? WHERE id = ?')
    .run(hashKey(key), encryptKey(secret, key), new Date().toISOString(), id);
  if (r.changes === 0) throw new Error(`unknown site ${id}`);
  return key;
}

export function setOrigins(db: Db, id: string, origins: string[]): Site {
  const list = [...new Set(origins.map(normalizeOrigin))];
  const r = db
    .prepare('UPDATE sites SET origins = ?, last_active_at = ? WHERE id = ?')
    .run(JSON.stringify(list), new Date().toISOString(), id);
  if (r.changes === 0) throw new Error(`unknown site ${id}`);
  return getSite(db, id)!;
}

export function setTimezone(db: Db, id: string, timezone: string): Site {
  if (!isTimeZone(timezone)) throw new Error(`unknown time zone: ${timezone}`);
  const r = db
    .prepare('UPDATE sites SET timezone = ?, last_active_at = ? WHERE id = ?')
    .run(timezone, new Date().toISOString(), id);
  if (r.changes === 0) throw new Error(`unknown site ${id}`);
  return getSite(db, id)!;
}
