// Campaigns of a site, stored as validated JSON bodies.
import { skippedName, validateCampaign, type Campaign, type Validated } from '../../shared/campaign';
import type { Db } from './db';

/**
 * Forms earlier versions accepted, read as they meant: schedule dates with a space for the 'T'
 * ("2025-11-28 08:00", which only V8 parses). Campaigns stored then keep showing, and the browser
 * only ever gets the strict form.
 */
function upgrade(c: unknown): unknown {
  const s = (c as { schedule?: Record<string, unknown> } | null)?.schedule;
  if (s && typeof s == 'object')
    for (const k of ['start', 'end']) if (typeof s[k] == 'string') s[k] = s[k].replace(/^(\d{4}-\d\d-\d\d) (?=\d\d:\d\d)/, '$1T');
  return c;
}

/** Deeper than any campaign needs (a targeting tree of a few levels), far from the validator's stack limit. */
const MAX_DEPTH = 64;

/** How deep `x` nests objects and arrays, counted without recursion, up to `MAX_DEPTH` + 1. */
function depth(x: unknown): number {
  let level: unknown[] = [x];
  for (let d = 0; d <= MAX_DEPTH; d++) {
    level = level.flatMap((v) => (typeof v == 'object' && v !== null ? Object.values(v) : []));
    if (!level.length) return d;
  }
  return MAX_DEPTH + 1;
}

/**
 * validateCampaign for what is stored and served. The validator recurses into targeting trees:
 * a campaign nested thousands of levels deep made it throw a RangeError. At import (`bounded`)
 * such a campaign is refused with its depth, before the validator runs. What is served was
 * imported, so only a campaign stored some other way (an edited database) can still be that deep:
 * there the throw is caught, and that campaign alone is skipped rather than the site's whole
 * campaigns.json, without walking every campaign a second time on each request.
 */
function validateStored(c: unknown, bounded?: boolean): Validated {
  if (bounded && depth(c) > MAX_DEPTH) return { ok: false, error: `campaign: nested more than ${MAX_DEPTH} levels deep` };
  try {
    return validateCampaign(upgrade(c));
  } catch (e) {
    return { ok: false, error: `campaign: cannot be checked (${String(e)})` };
  }
}

export interface ImportOptions {
  /**
   * Make the site's campaigns exactly the file's: the campaigns the file does not name are
   * deleted, in the same transaction as the import (so a refused file changes nothing).
   */
  replace?: boolean;
}

export interface ImportResult {
  /** The file's campaigns, validated, in its order. */
  campaigns: Campaign[];
  /** The campaigns `replace` deleted, by id. */
  removed: Campaign[];
}

/**
 * Imports a JSON array of campaigns or a single one, all or nothing: the first invalid one is
 * refused with its id (or position) and the field, e.g. `campaign 12: trigger.type: …`.
 * A campaign with an id that exists is replaced; with `replace`, the site's other campaigns are
 * deleted (see deleteCampaign for what stays of them).
 */
export function importCampaignSet(db: Db, siteId: string, json: unknown, options: ImportOptions = {}): ImportResult {
  const list = Array.isArray(json) ? json : [json];
  if (list.length === 0) throw new Error('no campaigns in the file');
  const campaigns = list.map((c, i) => {
    const r = validateStored(c, true);
    if (!r.ok) throw new Error(`${skippedName(c, i)}: ${r.error}`);
    return r.campaign;
  });
  const ids = new Set<number>();
  for (const c of campaigns) {
    if (ids.has(c.id)) throw new Error(`campaign ${c.id}: id appears twice in the file`);
    ids.add(c.id);
  }
  if (!db.prepare('SELECT 1 FROM sites WHERE id = ?').get(siteId)) throw new Error(`unknown site ${siteId}`);
  const upsert = db.prepare(
    `INSERT INTO campaigns (site_id, id, body, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (site_id, id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
  );
  const now = new Date().toISOString();
  // IMMEDIATE: `replace` reads the site's campaigns before writing; taking the write lock first
  // means no other connection's commit can come in between.
  const removed = db.transaction((): Campaign[] => {
    const gone = options.replace ? listCampaigns(db, siteId).filter((c) => !ids.has(c.id)) : [];
    for (const c of gone) removeCampaign(db, siteId, c.id);
    for (const c of campaigns) upsert.run(siteId, c.id, JSON.stringify(c), now);
    return gone;
  }).immediate();
  return { campaigns, removed };
}

/** importCampaignSet without `replace`: adds and updates, never deletes. */
export function importCampaigns(db: Db, siteId: string, json: unknown): Campaign[] {
  return importCampaignSet(db, siteId, json).campaigns;
}

export function listCampaigns(db: Db, siteId: string): Campaign[] {
  return (db.prepare('SELECT body FROM campaigns WHERE site_id = ? ORDER BY id').pluck().all(siteId) as string[]).map(
    (b) => JSON.parse(b) as Campaign,
  );
}

/**
 * The live campaigns the SDK gets. Each is validated again on the way out, so a campaign stored
 * under an older schema is skipped (and reported) instead of breaking visitors' pages.
 */
export function liveCampaigns(db: Db, siteId: string, onSkip: (line: string) => void = () => {}): Campaign[] {
  const out: Campaign[] = [];
  listCampaigns(db, siteId).forEach((c, i) => {
    if (c.status !== 'live') return;
    const r = validateStored(c);
    if (r.ok) out.push(r.campaign);
    else onSkip(`${skippedName(c, i)}: ${r.error}`);
  });
  return out;
}

export function removeCampaign(db: Db, siteId: string, id: number): boolean {
  return deleteCampaign(db, siteId, id) !== undefined;
}

/**
 * Deletes one campaign of the site and returns it (undefined if the site has no such campaign).
 * Only the campaign goes: its sign-ups (Email API, hooks) and its stats stay, and the stats' counts
 * keep it "had" for /events and /collect (routes/context.ts, countGroup), so the late events and
 * sign-ups of pages still showing it count while the stats hold counts of it.
 */
export function deleteCampaign(db: Db, siteId: string, id: number): Campaign | undefined {
  const body = db.prepare('DELETE FROM campaigns WHERE site_id = ? AND id = ? RETURNING body').pluck().get(siteId, id) as string | undefined;
  return body === undefined ? undefined : (JSON.parse(body) as Campaign);
}
