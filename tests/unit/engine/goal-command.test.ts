// wisepops('goal') through the real command layer and engine: history from the visitor's cookie,
// validation at the command, the beacon the server receives.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Cookies from 'js-cookie';
import { createPoplet, type Command } from '../../../src/sdk/commands/create';
import { makeEngine } from '../../../src/sdk/engine/engine';
import type { PopletUi } from '../../../src/sdk/render/contract';
import type { StartCollect } from '../../../src/sdk/collect/contract';
import type { Campaign, CampaignSet } from '../../../src/shared/campaign';
import { validateEventBatch, type EventBatch } from '../../../src/shared/events';

const control: Campaign = {
  id: 42,
  name: 'Welcome',
  status: 'live',
  control: 100,
  trigger: { type: 'landing' },
  layout: { type: 'popup' },
  content: { label: 'w', steps: [{ blocks: [{ type: 'heading', text: 'Hi' }] }], success: { blocks: [] } },
};

let beacons: EventBatch[];
let lines: string[];

beforeEach(() => {
  for (const name of Object.keys(Cookies.get())) Cookies.remove(name, { path: '/' });
  localStorage.clear();
  beacons = [];
  lines = [];
  vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2025, 5, 2, 12) });
  vi.spyOn(console, 'log').mockImplementation((m: unknown) => void lines.push(String(m)));
  vi.stubGlobal('navigator', { ...navigator, sendBeacon: (_: string, body: string) => beacons.push(JSON.parse(body)) > 0 });
  const set: CampaignSet = { site: 's1', country: null, campaigns: [control] };
  vi.stubGlobal('fetch', async () => new Response(JSON.stringify(set)));
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

/** The core with the landing trigger firing at once; the control group needs neither chunk. */
async function boot(): Promise<Command> {
  const [run, start] = createPoplet(window, new URL('https://popups.test/poplet.js?site=s1'), [['options', { debug: true }]], (deps) =>
    makeEngine(
      deps,
      (campaigns, fire) => {
        campaigns.forEach((c) => queueMicrotask(() => fire(c.id)));
        return { off: {}, pageview: () => {}, event: () => {}, dispose: () => {} };
      },
      () => Promise.reject(new Error('no chunk in this test')) as Promise<PopletUi>,
      () => Promise.reject(new Error('no chunk in this test')) as Promise<StartCollect>,
      () => undefined,
    ),
  );
  start();
  await new Promise((r) => setTimeout(r, 0));
  await new Promise((r) => setTimeout(r, 0));
  return run;
}

describe("wisepops('goal')", () => {
  it('reaches the server as goal events for the campaign shown, which the server accepts', async () => {
    const wp = await boot();
    expect(beacons.map((b) => b.events[0].k)).toEqual(['display']);
    wp('goal', 'purchase', { revenue: 49.9 });
    expect(beacons[1]).toEqual({ site: 's1', visitor: expect.any(String), events: [{ k: 'goal', c: 42, n: 'purchase', r: 49.9, t: Date.now(), g: 'control' }] });
    expect(validateEventBatch(beacons[1])).toBeNull();
  });

  it('credits nothing once the display is more than 30 days old', async () => {
    const wp = await boot();
    vi.setSystemTime(Date.now() + 31 * 86_400_000);
    wp('goal', 'purchase');
    expect(beacons).toHaveLength(1);
  });

  it.each([
    [[''], 'empty name'],
    [['x'.repeat(51)], 'name over 50 characters'],
    [[7], 'name not a string'],
    [['caf\ud83d'], 'name cut inside an emoji (a lone surrogate, which the server refuses)'],
    [['purchase', { revenue: -1 }], 'negative revenue'],
    [['purchase', { revenue: Infinity }], 'infinite revenue'],
    [['purchase', { revenue: NaN }], 'NaN revenue'],
    [['purchase', { revenue: '12' }], 'revenue as a string'],
    [['purchase', { revenue: 1e9 + 1 }], 'revenue over the server limit (the server would refuse the whole batch)'],
    [['purchase', 2e9], 'a bare revenue over the server limit'],
    [['purchase', '12'], 'a bare revenue as a string'],
    [['purchase', -5], 'a bare negative revenue'],
  ])('%j (%s): one debug line, nothing sent, nothing thrown', async (args: unknown[], what: string) => {
    const wp = await boot();
    lines = [];
    expect(() => wp('goal', ...args)).not.toThrow();
    expect(lines, what).toHaveLength(1);
    expect(lines[0]).toContain('[poplet] goal ignored');
    expect(beacons).toHaveLength(1);
  });

  it('accepts a name with a whole emoji (a surrogate pair)', async () => {
    const wp = await boot();
    wp('goal', 'tea \ud83c\udf75');
    expect(beacons[1].events[0].n).toBe('tea \ud83c\udf75');
  });

  it("takes the revenue as a bare number too, as Wisepops' integrations send it: wisepops('goal', name, 15)", async () => {
    const wp = await boot();
    wp('goal', 'Order Completed', 15);
    wp('goal', 'purchase', 1e9);
    expect(beacons.slice(1).map((b) => b.events)).toEqual([
      [{ k: 'goal', c: 42, n: 'Order Completed', r: 15, t: Date.now(), g: 'control' }],
      [{ k: 'goal', c: 42, n: 'purchase', r: 1e9, t: Date.now(), g: 'control' }],
    ]);
    for (const b of beacons) expect(validateEventBatch(b)).toBeNull();
  });

  it('accepts a 50-character name and zero revenue', async () => {
    const wp = await boot();
    wp('goal', 'x'.repeat(50), { revenue: 0 });
    expect(beacons[1].events).toEqual([{ k: 'goal', c: 42, n: 'x'.repeat(50), r: 0, t: Date.now(), g: 'control' }]);
  });
});
