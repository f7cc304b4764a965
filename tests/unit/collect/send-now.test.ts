// Goals and control-group counts leave the core at once: by sendBeacon, else fetch keepalive.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sendNow } from '../../../src/sdk/collect/send-now';
import type { EventBatch } from '../../../src/shared/events';

const batch: EventBatch = { site: 's1', visitor: 'v-9', events: [{ k: 'goal', c: 3, n: 'purchase', r: 5, t: 7 }] };

function stub(beacon: ((url: string, body: string) => boolean) | undefined) {
  const beacons: Array<[string, unknown]> = [];
  const fetches: Array<[string, RequestInit]> = [];
  vi.stubGlobal('navigator', beacon ? { sendBeacon: (url: string, body: string) => (beacons.push([url, JSON.parse(body)]), beacon(url, body)) } : {});
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit) => {
      fetches.push([url, init]);
      throw new TypeError('Failed to fetch');
    }),
  );
  return { beacons, fetches };
}

afterEach(() => vi.unstubAllGlobals());

describe('sendNow', () => {
  it('hands the batch to sendBeacon as JSON text, and nothing else', () => {
    const t = stub(() => true);
    sendNow('https://popups.test', batch);
    expect(t.beacons).toEqual([['https://popups.test/events', batch]]);
    expect(t.fetches).toEqual([]);
  });

  it.each([
    ['refuses', () => false],
    ['throws', () => {
      throw new TypeError('Illegal invocation');
    }],
    ['is missing', undefined],
  ])('falls back to fetch with keepalive when sendBeacon %s, and swallows a network error', async (_, beacon) => {
    const t = stub(beacon);
    expect(() => sendNow('https://popups.test', batch)).not.toThrow();
    expect(t.fetches).toHaveLength(1);
    const [url, init] = t.fetches[0];
    expect(url).toBe('https://popups.test/events');
    expect(init).toMatchObject({ method: 'POST', keepalive: true, credentials: 'omit' });
    expect(JSON.parse(init.body as string)).toEqual(batch);
    // the rejected fetch is caught: no unhandled rejection fails this test run
    await new Promise((r) => setTimeout(r, 0));
  });
});
