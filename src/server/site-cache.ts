// Sites as the hot paths need them (per-request lookups), cached in memory and
// dropped whenever another connection (the CLI, the demo, a restore) commits to the database:
// `PRAGMA data_version` changes exactly then, so an edit applies to the very next request.
import type { Db } from './store/db';
import { getSite, type Site } from './store/sites';

export interface SiteCache {
  get(id: string): Site | undefined;
}

export function createSiteCache(db: Db): SiteCache {
  const version = db.prepare('PRAGMA data_version').pluck();
  let seen = -1;
  const sites = new Map<string, Site>();

  function fresh(): void {
    const v = version.get() as number;
    if (v === seen) return;
    seen = v;
    sites.clear();
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
  };
}
