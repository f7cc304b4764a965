// The browser's network and page-lifecycle surface, in one injectable object so the outbox and
// the tracker are testable without real fetch, timers or unload events.
export interface Net {
  fetch(url: string, init: RequestInit): Promise<Response>;
  /** navigator.sendBeacon; false when unavailable or refused. */
  beacon(url: string, body: string): boolean;
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  /**
   * Page lifecycle: `online`, `pagehide`, and `hidden` (the page went to the background). The
   * handler gets the browser's Event, typed so that a function with an optional parameter of its
   * own (flush's `due`) cannot be passed as it is and read the Event as that parameter.
   */
  on(event: 'online' | 'pagehide' | 'hidden', fn: (e: Event) => void): void;
  /** The core's JSON.stringify (CollectKit's `serialize`): the chunk carries no copy of its own. */
  serialize(value: unknown): string;
}

export type Log = (message: string, data?: unknown) => void;

export const browserNet: Omit<Net, 'serialize'> = {
  fetch: (url, init) => fetch(url, init),
  beacon: (url, body) => {
    try {
      return navigator.sendBeacon(url, body);
    } catch {
      return false;
    }
  },
  now: Date.now,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as number),
  on: (event, fn) =>
    event == 'hidden'
      ? document.addEventListener('visibilitychange', (e) => document.hidden && fn(e))
      : addEventListener(event, fn),
};

/**
 * POST a JSON body with keepalive (survives navigation) and a timeout. Resolves [status, parsed
 * body]; status 0 means a network error or a timeout. Never rejects.
 */
export async function post(net: Net, url: string, body: unknown, timeout = 8000): Promise<[number, unknown]> {
  const ctl = new AbortController();
  const timer = net.setTimeout(() => ctl.abort(), timeout);
  const json = net.serialize(body);
  try {
    const res = await net.fetch(url, {
      method: 'POST',
      body: json,
      headers: { 'content-type': 'application/json' },
      // Browsers refuse a keepalive body over 64 KiB outright (a network error every time, so a
      // long sign-up would wait in the outbox for ever); 21,000 UTF-16 units are at most 63,000
      // bytes. A longer one goes without: if the page is left first, the outbox sends it later.
      keepalive: json.length < 21e3,
      credentials: 'omit',
      signal: ctl.signal,
    });
    return [res.status, await res.json().catch(() => null)];
  } catch {
    return [0, null];
  } finally {
    net.clearTimeout(timer);
  }
}
