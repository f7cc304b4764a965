// The sign-up outbox. Every sign-up is written to localStorage before it is sent and leaves it
// only on a 2xx (stored) or a 4xx (the server will never take it), so a network failure, a
// server outage or a closed tab never loses one. Retries reuse the sign-up's id: the server
// deduplicates on it. An empty outbox is no key at all: the engine checks for the key on every
// page view and loads the collection chunk to resend only when it exists.
import type { SignupPayload } from '../../shared/signup';
import type { SubmitResult } from '../render/contract';
import { OUTBOX_KEY } from './contract';
import { post, type Log, type Net } from './net';

/** Backoff of the in-page retry timer: 2 s, 4 s, 8 s … capped at 5 minutes. */
export const backoff = (attempts: number) => Math.min(1000 * 2 ** attempts, 3e5);

interface Item {
  p: SignupPayload;
  /** attempts so far */
  n: number;
  /** next timed retry, epoch ms */
  t: number;
}

type Store = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface Outbox {
  /** Store, then send. Resolves once the sign-up is stored by the server or safely queued. */
  submit(payload: SignupPayload): Promise<SubmitResult>;
  /** Send what is waiting (next page view, `online`); `due` limits it to items past their backoff. */
  flush(due?: boolean): void;
}

/** `store` null: localStorage is missing or throws (private modes), the outbox lives in memory. */
export function createOutbox(endpoint: string, net: Net, log: Log, store: Store | null, site: string): Outbox {
  /** Bounded: a visitor cannot pile up more than this many unsent sign-ups (inside the function, where esbuild writes it in place). */
  const MAX = 20;
  const url = endpoint + '/collect';
  const busy = new Set<string>();
  let mem: string | null = null;
  let timer: unknown;

  // The key is shared with the installs under other globals on this page, which may send to
  // another server: each sends only its own site's sign-ups (`all`: every item, to edit the list).
  const read = (all?: 1): Item[] => {
    let raw = mem;
    try {
      if (store) raw = store.getItem(OUTBOX_KEY);
    } catch {
      store = null;
    }
    if (!raw) return [];
    try {
      // Any malformed item throws or fails the check: the whole outbox is reset.
      const o = JSON.parse(raw) as { v: number; items: Item[] };
      if (o.v == 1 && o.items.every((i) => i.p.id && i.n >= 0 && i.t >= 0)) return o.items.filter((i) => all || i.p.site == site);
    } catch {
      /* corrupt: reset below */
    }
    log('outbox: reset', raw);
    write([]);
    return [];
  };
  const write = (items: Item[]) => {
    mem = items.length ? net.serialize({ v: 1, items }) : null;
    try {
      if (store) mem ? store.setItem(OUTBOX_KEY, mem) : store.removeItem(OUTBOX_KEY);
    } catch {
      store = null;
      log('outbox: in memory');
    }
  };
  // Always read-modify-write (another tab may have changed the outbox); `fn` edits in place or returns the new list.
  const edit = (fn: (items: Item[]) => Item[] | void) => {
    const items = read(1);
    write(fn(items) || items);
  };

  const schedule = () => {
    net.clearTimeout(timer);
    const next = Math.min(...read().filter((i) => !busy.has(i.p.id)).map((i) => i.t));
    if (next < Infinity) timer = net.setTimeout(() => flush(true), next - net.now());
  };

  async function send(p: SignupPayload): Promise<SubmitResult> {
    busy.add(p.id);
    const [status, body] = await post(net, url, p);
    busy.delete(p.id);
    const ok = ((status / 100) | 0) == 2;
    // A 4xx other than a timeout or a rate limit: the server will never take this one.
    if (ok || (((status / 100) | 0) == 4 && status != 408 && status != 429)) {
      edit((items) => items.filter((i) => i.p.id != p.id));
      if (ok) return { ok, queued: false };
      const error = String((body && (body as { error?: unknown }).error) || 'HTTP ' + status);
      log('outbox: refused, dropped', { id: p.id, error });
      return { ok, error };
    }
    edit((items) => {
      for (const i of items) if (i.p.id == p.id) i.t = net.now() + backoff(++i.n);
    });
    log('outbox: kept for retry', { id: p.id, status });
    schedule();
    return { ok: true, queued: true };
  }

  function flush(due?: boolean) {
    for (const i of read()) if (!busy.has(i.p.id) && (!due || i.t <= net.now())) void send(i.p);
    schedule();
  }

  // Back online: everything waiting goes now, whatever its backoff.
  net.on('online', () => flush());
  // The page is going away: hand every unsent sign-up to the browser. It stays in the outbox
  // until a 2xx is seen, so the next visit resends it and the server's dedupe absorbs the copy.
  net.on('pagehide', () => read().forEach((i) => net.beacon(url, net.serialize(i.p))));

  return {
    submit(p) {
      edit((items) => {
        items.push({ p, n: 0, t: net.now() });
        if (items.length > MAX) log('outbox: full, dropped', items.shift()!.p.id);
      });
      return send(p);
    },
    flush,
  };
}
