import { describe, expect, it } from 'vitest';
import { createTracker } from '../../../src/sdk/collect/tracker';
import { fakeNet } from './fake-net';

const EP = 'https://popups.test';

function setup(visitor?: string) {
  const f = fakeNet();
  const logs: string[] = [];
  const track = createTracker(EP, 's1', () => visitor, f.net, (m) => logs.push(m));
  return { ...f, track, logs };
}

describe('analytics tracker', () => {
  it('batches events into one POST /events after a short delay', async () => {
    const t = setup();
    t.track('display', 7, 'B');
    t.track('close', 7);
    expect(t.sent).toEqual([]);
    await t.advance(1000);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]).toMatchObject({ url: EP + '/events', keepalive: true, type: 'application/json' });
    expect(t.sent[0].body).toEqual({
      site: 's1',
      events: [
        { k: 'display', c: 7, g: 'B', t: 1_000_000 },
        { k: 'close', c: 7, t: 1_000_000 },
      ],
    });
    t.track('signup', 7);
    await t.advance(1000);
    expect(t.sent).toHaveLength(2);
    expect(t.sent[1].body).toMatchObject({ events: [{ k: 'signup', c: 7 }] });
  });

  it('includes the analytics id only when consent gives one', async () => {
    const t = setup('v-123');
    t.track('display', 1);
    await t.advance(1000);
    expect(t.sent[0].body).toMatchObject({ site: 's1', visitor: 'v-123' });
    const anon = setup();
    anon.track('display', 1);
    await anon.advance(1000);
    expect(anon.sent[0].body).not.toHaveProperty('visitor');
  });

  it('hands pending events to sendBeacon on pagehide and when the page is hidden', async () => {
    const t = setup();
    t.track('click', 3);
    t.fire('pagehide');
    expect(t.beacons).toEqual([{ url: EP + '/events', body: { site: 's1', events: [{ k: 'click', c: 3, t: 1_000_000 }] } }]);
    t.fire('hidden');
    expect(t.beacons).toHaveLength(1);
    t.track('close', 3);
    t.fire('hidden');
    expect(t.beacons).toHaveLength(2);
    await t.advance(5000);
    expect(t.sent).toEqual([]);
  });

  it('falls back to fetch when sendBeacon refuses', async () => {
    const t = setup();
    t.failBeacons();
    t.track('display', 3);
    t.fire('pagehide');
    expect(t.sent).toHaveLength(1);
  });

  it('logs a failed batch and drops events past the cap', async () => {
    const t = setup();
    t.answers.push(500);
    for (let i = 0; i < 101; i++) t.track('display', i);
    await t.advance(1000);
    expect((t.sent[0].body as { events: unknown[] }).events).toHaveLength(100);
    expect(t.logs).toContain('analytics: queue full');
    expect(t.logs).toContain('analytics: not delivered');
  });
});
