// Rebuilds lost sign-ups from the recovery journal: restore the last backup, then replay the
// journal files written since. Rows already present (same browser id) are left alone, so
// replaying twice, or replaying files the backup already covers, changes nothing. Replayed rows
// keep their original collected_at, count in the daily stats by the rule /collect counted them by
// (countGroup: a campaign the site never had gets no stats row) and are queued for hooks (a lost
// database may have lost undelivered hook deliveries with it: at-least-once, receivers
// deduplicate). Erase records are applied first so an erased address never comes back (and the
// tombstones of the sign-ups they erase are recorded, store/tombstones.ts: a sign-up deleted since,
// erased or expired, is not replayed, nor stored again by a late retry), and the
// purge of the database file of the rows they deleted is recorded as due in the same transaction,
// as an erasure's is: the server runs it (lifecycle/purge.ts), or `poplet purge` at once.
import { statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Db } from '../store/db';
import { foldEmail, type StoredSignup } from '../store/signups';
import { addCounts, countedGroups, dayIn } from '../store/events';
import { enqueueDeliveries } from '../hooks/enqueue';
import { createSiteCache } from '../site-cache';
import { countGroup } from '../routes/context';
import { emailHash, journalFiles, readJournal, readScrubTails, type EraseEntry, type SignupEntry } from './journal';
import { DEFAULT_PURGE_WITHIN_MINUTES } from '../config';
import { markPurgeDue } from './purge';
import { fromHex, idHash, putTombstones, tombstonedAt } from '../store/tombstones';

export interface ReplayResult {
  inserted: number;
  duplicates: number;
  erased: number;
  /** Entries for sites that no longer exist, erased addresses or sign-ups (tombstones), or honeypot hits. */
  skipped: number;
}

/**
 * `journal` is one journal file or a journal folder (all of its files, oldest first); with the
 * tails killed scrubs left of those files (journal.ts, at the top), beside them in the folder.
 */
export function replay(deps: { db: Db }, journal: string, opts: { purgeWithinMs?: number } = {}): ReplayResult {
  const { db } = deps;
  let isDir: boolean;
  try {
    isDir = statSync(journal).isDirectory();
  } catch {
    throw new Error(`no journal at ${journal}`);
  }
  const files = isDir ? journalFiles(journal) : [journal];
  // With the tails a killed scrub did not copy yet (journal.ts, at the top): their lines are in no file.
  // A single file: its own tails, left beside it in its folder.
  const tails = isDir ? readScrubTails(journal) : readScrubTails(dirname(journal), basename(journal));
  const entries = [...files.flatMap(readJournal), ...tails];
  const erasures = new Map<string, number>();
  for (const e of entries) {
    if (e.type !== 'erase') continue;
    const key = `${e.site}\n${e.email_sha256}`;
    erasures.set(key, Math.max(erasures.get(key) ?? 0, Date.parse(e.at)));
  }
  const erasedAt = (site: string, email: string): number | undefined => erasures.get(`${site}\n${emailHash(site, email)}`);

  const siteTz = db.prepare<[string], { timezone: string }>('SELECT timezone FROM sites WHERE id = ?');
  const siteRows = db.prepare<[string], { seq: number; client_id: string; email: string; collected_ms: number }>(
    'SELECT seq, client_id, email, collected_ms FROM signups WHERE site_id = ?',
  );
  const del = db.prepare<[number]>('DELETE FROM signups WHERE seq = ?');
  const msTaken = db.prepare<[string, number], { seq: number }>('SELECT seq FROM signups WHERE site_id = ? AND collected_ms = ?');
  const insert = db.prepare<[string, string, string, number, string, string, number, string, string | null, string, string | null, string | null]>(
    `INSERT INTO signups (site_id, client_id, collected_at, collected_ms, email, email_fold, wisepop_id, ip, country_code, other_fields, consent, variant)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site_id, client_id) DO NOTHING`,
  );

  // The campaigns and groups /collect checks a count against, from the same source it reads them from.
  const sites = createSiteCache(db);
  // Replay adds sign-up counts only, which countedGroups ignores: one query per campaign suffices.
  const counted = new Map<string, Set<string>>();
  const countedOf = (site: string, campaign: number): Set<string> => {
    const key = JSON.stringify([site, campaign]);
    let groups = counted.get(key);
    if (!groups) counted.set(key, (groups = countedGroups(db, site, campaign)));
    return groups;
  };

  const replayed = db.transaction((): ReplayResult => {
    const result: ReplayResult = { inserted: 0, duplicates: 0, erased: 0, skipped: 0 };
    // Erasures the restored backup predates.
    const erasedSites = new Set((entries.filter((e) => e.type === 'erase') as EraseEntry[]).map((e) => e.site));
    // The restored database may predate these erasures, so its floor (sites.erased_through_ms)
    // does too: raise it, or a sign-up collected after the replay could land at or before an
    // erasure's time and be dropped by the next replay (see eraseRows).
    const raiseFloor = db.prepare<[number, string]>('UPDATE sites SET erased_through_ms = MAX(erased_through_ms, ?) WHERE id = ?');
    for (const e of entries) if (e.type === 'erase' && Number.isFinite(Date.parse(e.at))) raiseFloor.run(Date.parse(e.at), e.site);
    // The tombstones of the erased sign-ups (store/tombstones.ts), which a backup taken before the
    // erasure lacks: those its erase record lists (records written since tombstones exist), and
    // below those of the rows and lines it erases here. A retry of one then stores nothing.
    for (const e of entries) {
      if (e.type !== 'erase' || !Array.isArray(e.ids) || !Number.isFinite(Date.parse(e.at))) continue;
      putTombstones(db, e.site, e.ids.map(fromHex).filter((h): h is bigint => h !== null), Date.parse(e.at));
    }
    for (const site of erasedSites) {
      for (const r of siteRows.all(site)) {
        const at = erasedAt(site, r.email);
        if (at === undefined || r.collected_ms > at) continue;
        putTombstones(db, site, [idHash(r.client_id)], at);
        result.erased += del.run(r.seq).changes;
      }
    }
    for (const e of entries as SignupEntry[]) {
      if (e.type !== 'signup') continue;
      const p = { ...e.payload, email: String(e.payload.email).trim() }; // as /collect stores it
      const tz = siteTz.get(p.site);
      const collectedMs = Date.parse(e.meta.collected_at);
      const erased = erasedAt(p.site, p.email);
      if (!tz || (p.hp ?? '') !== '' || !Number.isFinite(collectedMs)) {
        result.skipped += 1;
        continue;
      }
      if (erased !== undefined && collectedMs <= erased) {
        putTombstones(db, p.site, [idHash(String(p.id))], erased);
        result.skipped += 1;
        continue;
      }
      // Erased or expired since (an erasure, the retention job): its tombstone says so.
      if (tombstonedAt(db, p.site, String(p.id)) !== undefined) {
        result.skipped += 1;
        continue;
      }
      // collected_ms is unique per site; a row stored after the restore may hold the exact ms.
      let ms = collectedMs;
      while (msTaken.get(p.site, ms)) ms += 1;
      const collectedAt = new Date(ms).toISOString();
      const info = insert.run(
        p.site, p.id, collectedAt, ms, p.email, foldEmail(p.email), p.wisepop_id, e.meta.ip, e.meta.country_code,
        JSON.stringify(p.fields ?? {}), p.consent ?? null, p.variant ?? null,
      );
      if (info.changes === 0) {
        result.duplicates += 1;
        continue;
      }
      result.inserted += 1;
      const group = countGroup(sites.campaignGroups(p.site).get(p.wisepop_id), p.variant ?? '', () => countedOf(p.site, p.wisepop_id));
      if (group !== null) addCounts(db, { site: p.site, campaign: p.wisepop_id, day: dayIn(ms, tz.timezone), variant: group }, { signups: 1 });
      const row: StoredSignup = {
        seq: Number(info.lastInsertRowid), site_id: p.site, collected_at: collectedAt, email: p.email,
        wisepop_id: p.wisepop_id, ip: e.meta.ip, country_code: e.meta.country_code, other_fields: p.fields ?? {},
      };
      enqueueDeliveries(db, p.site, [row]);
    }
    // A restored backup holds the rows of erasures made since it was taken: deleting them is an
    // erasure too, whose purge is due like one's.
    if (result.erased > 0) markPurgeDue(db, 'replay', opts.purgeWithinMs ?? DEFAULT_PURGE_WITHIN_MINUTES * 60_000);
    return result;
  }).immediate();
  return replayed;
}
