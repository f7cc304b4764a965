// The sign-up outbox. Every sign-up is written to localStorage before it is sent and leaves it
// only on a 2xx (stored) or a 4xx (the server will never take it), so a network failure, a
// server outage or a closed tab never loses one. Retries reuse the sign-up's id: the server
// deduplicates on it.
import type { SignupPayload } from '../../shared/signup';
import type { SubmitResult } from '../render/contract';
import { post, type Net } from './net';

export const OUTBOX_KEY = 'poplet_outbox';
const VERSION = 1;
/** Bounded: a visitor cannot pile up more than this many unsent sign-ups. */
const MAX = 20;
/** Backoff of the in-page retry timer: 2 s, 4 s, 8 s … capped at 5 minutes. */
export const backoff = (attempts: number) => Math.min(1000 * 2 ** attempts, 3e5);

interface Item {
  p: SignupPayload;
  /** attempts so far */
  n: number;
  /** next timed retry, epoch ms */
  t: number;
}

type Store = Pick<Storage, 'getItem' | 'setItem'>;

export interface Outbox {
  /** Store, then send. Resolves once the sign-up is stored by the server or safely queued. */
  submit(payload: SignupPayload): Promise<SubmitResult>;
  /** Send what is waiting (next page view, `online`); `due` limits it to items past their backoff. */
  flush(due?: boolean): void;
}

export function createOutbox(endpoint: string, net: Net, log: (m: string, d?: unknown) => void, store?: Store | null): Outbox {
  const url = endpoint + '/collect';
  const busy = new Set<string>();
  // Where localStorage is missing or throws (private modes, quota), the outbox lives in memory.
  let mem = '';
  let timer: unknown;

  const read = (): Item[] => {
    let raw: string | null = mem;
    try {
      if (store) raw = store.getItem(OUTBOX_KEY);
    } catch {
      store = null;
    }
    if (!raw) return [];
    try {
      // Any malformed item throws or fails the check: the whole outbox is reset.
      const o = JSON.parse(raw) as { v: number; items: Item[] };
      if (o.v == VERSION && o.items.every((i) => typeof i.p.id == 'string' && i.n >= 0 && i.t >= 0)) return o.items;
    } catch {
      /* corrupt: reset below */
    }
    log('outbox: unreadable, reset', raw);
    write([]);
    return [];
  };
  const write = (items: Item[]) => {
    mem = JSON.stringify({ v: VERSION, items });
    try {
      if (store) store.setItem(OUTBOX_KEY, mem);
    } catch {
      store = null;
      log('outbox: in memory');
    }
  };
  // Always read-modify-write: another tab may have changed the outbox meanwhile.
  const edit = (fn: (items: Item[]) => Item[]) => write(fn(read()));
  const drop = (id: string) => edit((items) => items.filter((i) => i.p.id != id));

  const schedule = () => {
    net.clearTimeout(timer);
    const next = Math.min(...read().filter((i) => !busy.has(i.p.id)).map((i) => i.t));
    if (next < Infinity) timer = net.setTimeout(() => flush(true), Math.max(0, next - net.now()));
  };

  async function send(p: SignupPayload): Promise<SubmitResult> {
    busy.add(p.id);
    const [status, body] = await post(net, url, p);
    busy.delete(p.id);
    if (status >= 200 && status < 300) {
      drop(p.id);
      return { ok: true, queued: false };
    }
    if (status >= 400 && status < 500 && status != 408 && status != 429) {
      drop(p.id);
      const error = String((body && (body as { error?: unknown }).error) || 'HTTP ' + status);
      log('outbox: refused, dropped', { id: p.id, status, error });
      return { ok: false, error };
    }
    edit((items) => items.map((i) => (i.p.id == p.id ? { ...i, n: i.n + 1, t: net.now() + backoff(i.n + 1) } : i)));
    log('outbox: kept for retry', { id: p.id, status });
    schedule();
    return { ok: true, queued: true };
  }

  function flush(due?: boolean) {
    const now = net.now();
    for (const i of read()) if (!busy.has(i.p.id) && (!due || i.t <= now)) void send(i.p);
    schedule();
  }

  net.on('online', () => flush());
  // The page is going away: hand every unsent sign-up to the browser. It stays in the outbox
  // until a 2xx is seen, so the next visit resends it and the server's dedupe absorbs the copy.
  net.on('pagehide', () => {
    for (const i of read()) net.beacon(url, JSON.stringify(i.p));
  });

  return {
    submit(p) {
      edit((items) => {
        const all = [...items.filter((i) => i.p.id != p.id), { p, n: 0, t: net.now() }];
        if (all.length > MAX) log('outbox: full, dropped', all[0].p.id);
        return all.slice(-MAX);
      });
      return send(p);
    },
    flush,
  };
}
