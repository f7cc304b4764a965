// The seven first-party records: which backend holds them, their lifetimes, consent, and
// moving them when the storage, domain or consent changes. Every access is guarded: a broken
// or blocked storage never throws into the page, and a bad record resets only itself.
import { cookies, web } from './backend';
import { decode, encode, fits, like, Rec } from './codec';
import type { Log } from '../log';
import { safe } from '../guard';

/** The records, by index; the first four outlive the browser session when consent allows. */
export const enum R {
  STATE,
  VISITS,
  PROPS,
  NOSHOW,
  SESSION,
  ACTIVITY,
  /** The analytics id: not necessary, so never stored without consent. */
  VISITOR,
}

/** The options the store follows (a subset of the `options` command's). */
export interface StoreConfig {
  storage: string;
  /** lifetime of the persistent records */
  cookieExpiryDays: number;
  cookieDomain?: string;
}

export interface Store {
  /** The record's payload when it has the shape of `sample` (see `like`); a bad one is deleted. */
  read<T extends unknown[]>(record: number, sample: unknown[]): T | undefined;
  /** The value of a record holding one, of the shape of `sample`. */
  one<T>(record: number, sample: T): T | undefined;
  /** Writes (undefined deletes). False (and a debug line) when nothing was written: over `max` bytes, or refused by the storage (full, blocked). */
  write(record: number, payload?: unknown[], max?: number): boolean;
  /** Applies a configuration (consent false: session-only, no analytics id), moving every record to its new place and lifetime. */
  configure(cfg: StoreConfig, consent: boolean): void;
  /** A record's payload as decoded, unchecked, as configure(cfg) will find it (the configured storage's copy wins): for reading the consent it holds before configure() needs it. */
  peek(record: number, cfg: StoreConfig): unknown[] | undefined;
}

/**
 * `prefix`: the global's name. The records carry it (`wisepops`, `wisepops_visits`… for the
 * default global, the Wisepops names), so installs under other globals never share records,
 * and one running next to the real Wisepops script leaves its cookies alone.
 */
export function createStore(log: Log, prefix = 'wisepops'): Store {
  // The suffixes, the first empty (the `wisepops` record itself).
  const NAMES = ' _visits _props _noshow _session _activity_session _visitor'.split(' ').map((s) => prefix + s);
  let cfg: StoreConfig;
  /** cookieDomain as of the last configure(), copied: `cfg` is the caller's live options object. */
  let domain: string | undefined;
  let consent: boolean;
  // Told once a page: every write would say it again.
  let told: 1 | undefined;
  const cookie = cookies(() => [cfg.cookieDomain, domain], (d) => told || ((told = 1), log('cookieDomain refused, records host-only: ' + d)));
  // Both backends, the configured one last.
  const places = () => (cfg.storage == 'localStorage' ? [cookie, web] : [web, cookie]);
  const be = () => places()[1];
  // Never over a record's size: configure() moves what it finds as it is, and a value that size
  // (another app's, a broken one, one from Web Storage) would be a cookie on every request until a
  // read reset it (the activity record is read only by exit-intent campaigns).
  // `move`: configure() found a copy here, deleted first but for the one this write replaces.
  const put = (i: number, raw: string, move?: boolean) => {
    const w = (consent || i < R.VISITOR) && fits(raw);
    if (move && (be() == cookie || !w)) be().del(NAMES[i], w);
    if (w) be().set(NAMES[i], raw, consent && i < R.SESSION ? cfg.cookieExpiryDays : undefined);
  };
  // Methods in the order that gzips smallest.
  const store: Store = {
    read: (i, sample) =>
      safe(() => {
        const raw = be().get(NAMES[i]);
        if (raw == null) return;
        const p = decode(raw);
        if (p && like(p, sample)) return p as never;
        log('record reset: ' + NAMES[i], raw);
        be().del(NAMES[i]);
      }),
    one: (i, sample) => (store.read(i, [sample]) || [])[0] as never,
    peek(i, c) {
      // As configure() will read: each backend's copy in Poplet's format, the configured one's first.
      cfg = c;
      let r: unknown[] | undefined;
      for (const b of places()) r = safe(() => decode(b.get(NAMES[i]) || '')) || r;
      return r;
    },
    write(i, payload, max: number = Rec.MAX_BYTES) {
      const raw = payload && encode(payload);
      if (raw && !fits(raw, max)) return log(NAMES[i] + `: over ${max} bytes, not saved`), false;
      return safe(() => (raw ? put(i, raw) : be().del(NAMES[i]), true)) || (log(NAMES[i] + ': not saved'), false);
    },
    configure(next, ok) {
      // Read from both backends (the configured one last, so its copy wins unless it is broken
      // and the other's is not: a copy broken there must not cost the visitor a good one), then written where
      // the configuration says; the first time, this normalises what earlier pages left: records
      // move here and lifetimes are renewed (which also renews Safari's 7-day cap on every visit).
      // Nothing is lost to a refused write (Web Storage full): the other backend's copy goes only
      // once this one is written, and Web Storage replaces its own copy only then too. Cookies
      // lose every other copy first, under the new domain and the previous one (cfg may be the
      // caller's object, already changed: the previous domain is the copy kept here), since a copy
      // under another domain would shadow the one set now; the one set now is replaced in place.
      cfg = next;
      consent = ok;
      const [other, here] = places();
      NAMES.forEach((name, i) =>
        safe(() => {
          const o = safe(() => other.get(name));
          const h = safe(() => here.get(name));
          const raw = decode(h || '') || o == null ? h : o;
          if (raw == null) return;
          // Any value of the opt-out counts (a Wisepops visitor's "don't show again" too):
          // rewritten in this format, so the choice survives a switch-over.
          put(i, i == R.NOSHOW ? encode([]) : raw, h != null);
          if (o != null) other.del(name);
        }),
      );
      domain = cfg.cookieDomain;
    },
  };
  return store;
}
