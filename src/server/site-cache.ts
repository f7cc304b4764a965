// Sites and their campaigns' A/B groups as the hot paths need them (per-request lookups), cached
// in memory and dropped whenever another connection (the CLI, the demo, a restore) commits to the database:
// `PRAGMA data_version` changes exactly then. It is read once per turn of the event loop, not per
// lookup: read twice per sign-up it cost a tenth of /collect's throughput (tests/bench/server.ts).
// An edit still applies to the requests that reach the server after it: the lookups run while
// requests are handled (libuv's poll phase), and the first lookup of a turn comes after the poll
// that found that turn's requests, so after anything committed before they were sent. The one
// exception is a busy server, whose poll phase polls again after 1,024 ready events: a request
// found by such a second poll can still be answered with the edit's old values, in that turn only.
import type { Db } from './store/db';
import { getSite, type Site } from './store/sites';
import { listCampaigns } from './store/campaigns';
import { DEFAULT_GROUP } from '../shared/campaign-targeting';

/**
 * Edits made on a connection itself, which its own PRAGMA data_version never reports: the
 * retention job deletes dormant sites on the server's connection. Bumped by sitesChanged.
 */
const ownEdits = new WeakMap<Db, number>();

/** Drops every site cache of `db`: sites were deleted or changed through that same connection. */
export function sitesChanged(db: Db): void {
  ownEdits.set(db, (ownEdits.get(db) ?? 0) + 1);
}

export interface SiteCache {
  get(id: string): Site | undefined;
  /**
   * The site's campaigns (every status: a paused one's late events still count) with the A/B
   * groups each can report (assignGroup, src/sdk/targeting/variant.ts): its variants' ids, or
   * `default` when it has a control group but no variants, and `control` when it has one; none
   * for a campaign with neither.
   */
  campaignGroups(siteId: string): Map<number, Set<string>>;
}

export function createSiteCache(db: Db): SiteCache {
  const version = db.prepare('PRAGMA data_version').pluck();
  let seen = -1;
  let seenOwn = 0;
  const sites = new Map<string, Site>();
  const groups = new Map<string, Map<number, Set<string>>>();

  let checked = false;
  function fresh(): void {
    if (checked) return;
    checked = true;
    // After the poll phase: the next turn's requests read the version again.
    setImmediate(() => (checked = false));
    const v = version.get() as number;
    const own = ownEdits.get(db) ?? 0;
    if (v === seen && own === seenOwn) return;
    seen = v;
    seenOwn = own;
    sites.clear();
    groups.clear();
  }

  return {
    get(id) {
      fresh();
      let site = sites.get(id);
      if (!site) {
        site = getSite(db, id);
        // Unknown ids are not cached: a flood of made-up ids must not grow memory.
        if (site) sites.set(id, site);
      }
      return site;
    },
    campaignGroups(siteId) {
      fresh();
      let map = groups.get(siteId);
      if (!map) {
        map = new Map();
        for (const c of listCampaigns(db, siteId)) {
          const groups = c.variants?.length ? c.variants.map((v) => v.id) : c.control ? [DEFAULT_GROUP] : [];
          if (c.control) groups.push('control');
          map.set(c.id, new Set(groups));
        }
        // Only callers that found the site ask: one entry per real site at most.
        groups.set(siteId, map);
      }
      return map;
    },
  };
}
