import { beforeEach, describe, expect, it } from 'vitest';
import { createOutbox, backoff } from '../../../src/sdk/collect/outbox';
import { OUTBOX_KEY } from '../../../src/sdk/collect/contract';
import type { SignupPayload } from '../../../src/shared/signup';
import { fakeNet } from './fake-net';

const EP = 'https://popups.test';
const signup = (id: string, email = 'ann@example.com'): SignupPayload => ({ id, site: 's1', wisepop_id: 7, email, fields: { name: 'Ann' } });

function setup(store: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null = localStorage) {
  const f = fakeNet();
  const logs: string[] = [];
  const outbox = createOutbox(EP, f.net, (m) => logs.push(m), store, 's1');
  const stored = () => (JSON.parse(localStorage.getItem(OUTBOX_KEY) ?? '{"items":[]}') as { items: Array<{ p: SignupPayload; n: number }> }).items;
  return { ...f, outbox, logs, stored };
}

beforeEach(() => localStorage.clear());

describe('outbox', () => {
  it('writes the sign-up to localStorage before sending it', async () => {
    const t = setup();
    t.answers.push('hang');
    void t.outbox.submit(signup('a1'));
    expect(t.stored().map((i) => i.p.id)).toEqual(['a1']);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]).toMatchObject({ url: EP + '/collect', keepalive: true, type: 'application/json', body: signup('a1') });
  });

  it('2xx: resolves ok, not queued, and removes the item', async () => {
    const t = setup();
    t.answers.push({ status: 201, body: { id: 'a1', collected_at: '2025-01-01T00:00:00.000Z' } });
    await expect(t.outbox.submit(signup('a1'))).resolves.toEqual({ ok: true, queued: false });
    expect(t.stored()).toEqual([]);
    // empty is no key at all: the core loads the chunk on a page view only when the key exists
    expect(localStorage.getItem(OUTBOX_KEY)).toBeNull();
    expect(t.timers.size).toBe(0);
  });

  it('4xx: drops the item, logs it and tells the caller the server error', async () => {
    const t = setup();
    t.answers.push({ status: 422, body: { error: 'email: invalid syntax' } });
    await expect(t.outbox.submit(signup('a1', 'nope'))).resolves.toEqual({ ok: false, error: 'email: invalid syntax' });
    expect(t.stored()).toEqual([]);
    expect(t.logs.some((l) => l.includes('refused'))).toBe(true);
    t.fire('online');
    await t.settle();
    expect(t.sent).toHaveLength(1);
  });

  it('4xx without a JSON body still reports an error', async () => {
    const t = setup();
    t.answers.push(413);
    await expect(t.outbox.submit(signup('a1'))).resolves.toMatchObject({ ok: false, error: expect.stringContaining('413') });
  });

  it.each([500, 503, 429, 408, 'network'] as const)('%s: queued, kept, retried with backoff until a 2xx', async (failure) => {
    const t = setup();
    t.answers.push(failure, failure);
    await expect(t.outbox.submit(signup('a1'))).resolves.toEqual({ ok: true, queued: true });
    expect(t.stored()).toMatchObject([{ p: { id: 'a1' }, n: 1 }]);
    // first retry after the first backoff step, not before
    await t.advance(backoff(1) - 1);
    expect(t.sent).toHaveLength(1);
    await t.advance(1);
    expect(t.sent).toHaveLength(2);
    expect(t.stored()).toMatchObject([{ n: 2 }]);
    // the second waits twice as long
    await t.advance(backoff(2) - 1);
    expect(t.sent).toHaveLength(2);
    await t.advance(1);
    expect(t.sent).toHaveLength(3);
    expect(t.stored()).toEqual([]);
    // one id across every attempt: the server deduplicates on it
    expect(new Set(t.sent.map((s) => (s.body as SignupPayload).id))).toEqual(new Set(['a1']));
  });

  it('backoff is capped at five minutes', () => {
    expect(backoff(1)).toBe(2000);
    expect(backoff(3)).toBe(8000);
    expect(backoff(30)).toBe(300_000);
  });

  it('timeout: aborts after 8 s and keeps the item', async () => {
    const t = setup();
    t.answers.push('hang');
    const result = t.outbox.submit(signup('a1'));
    await t.advance(7999);
    expect(t.stored()).toMatchObject([{ n: 0 }]);
    await t.advance(1);
    await expect(result).resolves.toEqual({ ok: true, queued: true });
    expect(t.stored()).toMatchObject([{ p: { id: 'a1' }, n: 1 }]);
  });

  it('online event: retries at once, ignoring the backoff', async () => {
    const t = setup();
    t.answers.push('network');
    await t.outbox.submit(signup('a1'));
    t.fire('online');
    await t.settle();
    expect(t.sent).toHaveLength(2);
    expect(t.stored()).toEqual([]);
  });

  it('next page view (flush) and next visit (a new outbox on the same storage) resend', async () => {
    const t = setup();
    t.answers.push(503, 503);
    await t.outbox.submit(signup('a1'));
    t.outbox.flush();
    await t.settle();
    expect(t.sent).toHaveLength(2);
    expect(t.stored()).toMatchObject([{ n: 2 }]);

    // next visit: a fresh page, a fresh outbox over the same localStorage
    const next = setup();
    next.outbox.flush();
    await next.settle();
    expect(next.sent.map((s) => (s.body as SignupPayload).id)).toEqual(['a1']);
    expect(next.stored()).toEqual([]);
  });

  it("another install's sign-up (another global, site and server, same localStorage key) is neither sent nor beaconed here, and is kept", async () => {
    const t = setup();
    t.answers.push(503);
    await t.outbox.submit(signup('a1'));
    const f = fakeNet();
    const other = createOutbox('https://other.test', f.net, () => {}, localStorage, 's2');
    f.answers.push(400);
    other.flush();
    f.fire('pagehide');
    await f.settle();
    expect([f.sent, f.beacons, [...f.timers]]).toEqual([[], [], []]);
    expect(t.stored().map((i) => i.p.id)).toEqual(['a1']);
  });

  it('flush(due) only sends items whose backoff has passed', async () => {
    const t = setup();
    t.answers.push(500);
    await t.outbox.submit(signup('a1'));
    t.outbox.flush(true);
    await t.settle();
    expect(t.sent).toHaveLength(1);
  });

  it('never sends the same item twice at once', async () => {
    const t = setup();
    t.answers.push('hang');
    void t.outbox.submit(signup('a1'));
    t.outbox.flush();
    t.fire('online');
    expect(t.sent).toHaveLength(1);
  });

  it('pagehide: every unsent sign-up goes by sendBeacon and stays until a 2xx', async () => {
    const t = setup();
    t.answers.push(503, 503);
    await t.outbox.submit(signup('a1'));
    await t.outbox.submit(signup('b2'));
    t.fire('pagehide');
    expect(t.beacons.map((b) => [b.url, (b.body as SignupPayload).id])).toEqual([
      [EP + '/collect', 'a1'],
      [EP + '/collect', 'b2'],
    ]);
    expect(t.beacons[0].body).toEqual(signup('a1'));
    expect(t.stored()).toHaveLength(2);
  });

  it('pagehide with an empty outbox sends nothing', () => {
    const t = setup();
    t.fire('pagehide');
    expect(t.beacons).toEqual([]);
  });

  it.each(['{not json', '{"v":99,"items":[]}', '{"v":1,"items":[{"p":null}]}', '[]'])('corrupt outbox %s is reset', async (raw) => {
    localStorage.setItem(OUTBOX_KEY, raw);
    const t = setup();
    t.outbox.flush();
    await t.settle();
    expect(t.sent).toEqual([]);
    expect(localStorage.getItem(OUTBOX_KEY)).toBeNull();
    expect(t.logs.some((l) => l.includes('reset'))).toBe(true);
    // and it still works afterwards
    await expect(t.outbox.submit(signup('a1'))).resolves.toEqual({ ok: true, queued: false });
  });

  it('is bounded: the oldest unsent sign-up goes when it is full', async () => {
    const t = setup();
    for (let i = 0; i < 21; i++) t.answers.push('network');
    for (let i = 0; i < 21; i++) await t.outbox.submit(signup('id' + i));
    const ids = t.stored().map((i) => i.p.id);
    expect(ids).toHaveLength(20);
    expect(ids[0]).toBe('id1');
    expect(ids.at(-1)).toBe('id20');
  });

  it('works in memory where localStorage throws', async () => {
    const broken = {
      getItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
      setItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
      removeItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
    };
    const t = setup(broken);
    t.answers.push('network');
    await expect(t.outbox.submit(signup('a1'))).resolves.toEqual({ ok: true, queued: true });
    t.fire('online');
    await t.settle();
    expect(t.sent.map((s) => (s.body as SignupPayload).id)).toEqual(['a1', 'a1']);
  });

  it('keeps items another tab added meanwhile', async () => {
    const t = setup();
    t.answers.push('hang');
    void t.outbox.submit(signup('a1'));
    const other = setup();
    other.answers.push('network');
    await other.outbox.submit(signup('b2'));
    expect(t.stored().map((i) => i.p.id).sort()).toEqual(['a1', 'b2']);
  });
});
