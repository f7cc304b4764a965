// The seven first-party records: which backend holds them, their lifetimes, consent, and
// moving them when the storage, domain or consent changes. Every access is guarded: a broken
// or blocked storage never throws into the page, and a bad record resets only itself.
import { cookieBackend, localBackend, type Backend } from './backend';
import { decode, encode, sizeOf, MAX_BYTES } from './codec';
import type { Log } from '../log';

export const STATE = 'wisepops';
export const VISITS = 'wisepops_visits';
export const PROPS = 'wisepops_props';
export const NOSHOW = 'wisepops_noshow';
export const SESSION = 'wisepops_session';
export const ACTIVITY = 'wisepops_activity_session';
export const VISITOR = 'wisepops_visitor';

/** Records that outlive the browser session when consent allows. */
const PERSISTENT = [STATE, VISITS, PROPS, NOSHOW];
const ALL = [...PERSISTENT, SESSION, ACTIVITY, VISITOR];

export interface StoreConfig {
  storage: 'cookie' | 'localStorage';
  /** lifetime of the persistent records */
  days: number;
  domain?: string;
  /** false: every record is session-only and there is no analytics id */
  consent: boolean;
}

export interface Store {
  /** The record's payload through `parse` (which throws on a bad shape), or undefined. */
  read<T>(name: string, parse: (payload: unknown[]) => T): T | undefined;
  /** Writes (undefined deletes). False when the record would exceed MAX_BYTES: nothing written. */
  write(name: string, payload: unknown[] | undefined): boolean;
  /** Applies a new configuration, moving every record to its new place and lifetime. */
  configure(next: StoreConfig): void;
}

const guard = <T>(f: () => T): T | undefined => {
  try {
    return f();
  } catch {
    return undefined;
  }
};

export function createStore(initial: StoreConfig, log: Log): Store {
  let cfg = initial;
  let be: Backend = cookieBackend();
  const backends = (c: StoreConfig) => {
    const cookie = cookieBackend(c.domain);
    const local = localBackend();
    return c.storage === 'localStorage' ? [local, cookie] : [cookie, local];
  };
  const put = (name: string, raw: string) => {
    if (name === VISITOR && !cfg.consent) return;
    guard(() => be.set(name, raw, cfg.consent && PERSISTENT.includes(name) ? cfg.days : undefined));
  };

  const store: Store = {
    read(name, parse) {
      const raw = guard(() => be.get(name));
      if (raw == null) return;
      try {
        return parse(decode(raw));
      } catch (e) {
        log(`record ${name} reset: ${(e as Error).message}`, raw.slice(0, 100));
        guard(() => be.del(name));
      }
    },
    write(name, payload) {
      if (!payload) return guard(() => be.del(name)), true;
      const raw = encode(payload);
      if (sizeOf(raw) > MAX_BYTES) return false;
      put(name, raw);
      return true;
    },
    configure(next) {
      const from = backends(cfg);
      cfg = next;
      be = backends(next)[0];
      for (const name of ALL) {
        let raw: string | undefined;
        for (const b of from) {
          const v = guard(() => b.get(name));
          if (v == null) continue;
          if (raw == null) raw = v;
          guard(() => b.del(name));
        }
        if (raw != null) put(name, raw);
      }
    },
  };
  // Normalise what earlier pages left: records in the other backend move here, lifetimes are
  // renewed (this also refreshes Safari's 7-day cap on every visit), a denied consent applies.
  store.configure(initial);
  return store;
}

/** Parse helpers: each throws on the wrong type so the record resets. */
export function num(x: unknown): number {
  if (typeof x !== 'number' || !(x >= 0)) throw Error('bad number');
  return x;
}
export function str(x: unknown): string {
  if (typeof x !== 'string') throw Error('bad string');
  return x;
}
