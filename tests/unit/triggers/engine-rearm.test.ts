// The real engine over the real triggers (createEngine), on a fake clock: a re-arm mid-page keeps
// an inactivity campaign's idle clock, an SPA page view starts it again. Firing is seen at the
// before-popup-display event, vetoed so that no chunk is needed.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createEngine } from '../../../src/sdk/engine';
import { ctx as fixtureCtx } from '../targeting/fixtures';
import type { Campaign, CampaignSet } from '../../../src/shared/campaign';

const content = { label: 'x', steps: [{ blocks: [] }], success: { blocks: [] } };
const IDLE: Campaign = { id: 1, name: 'Idle', status: 'live', trigger: { type: 'inactivity', seconds: 30 }, layout: { type: 'popup' }, content };
/** Eligible once the site sets plan=pro; its event never comes. */
const PRO: Campaign = {
  ...IDLE,
  id: 2,
  name: 'Pro',
  targeting: { type: 'property', key: 'plan', kind: 'string', op: 'equals', value: 'pro' },
  trigger: { type: 'event', name: 'never' },
  layout: { type: 'bar', position: 'top' },
};

function start() {
  // No properties yet: PRO waits for plan = 'pro'.
  const ctx = fixtureCtx({ props: {} });
  const set: CampaignSet = { site: 's', country: null, campaigns: [IDLE, PRO] };
  vi.stubGlobal('fetch', async () => new Response(JSON.stringify(set)));
  const shown: Array<[number, number]> = [];
  const t0 = Date.now();
  const engine = createEngine({
    site: 's',
    endpoint: 'https://popups.test',
    uiUrl: 'https://popups.test/poplet.ui.js',
    context: () => ({ ...ctx, now: Date.now() }),
    history: { update: () => {}, markSignedUp: () => {} },
    noshow: () => {},
    reload: () => {},
    activity: { get: () => undefined, set: () => {} },
    visitorId: () => undefined,
    emit: (name, detail) => {
      if (name == 'before-popup-display') shown.push([(detail.popup as { id: number }).id, (Date.now() - t0) / 1000]);
      return false;
    },
    log: () => {},
  });
  engine.pageview();
  return { engine, ctx, shown };
}

beforeEach(() => void vi.useFakeTimers({ now: Date.UTC(2025, 5, 2, 12), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] }));
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  document.head.innerHTML = '';
});

describe('createEngine: triggers re-armed by the engine', () => {
  it('another campaign becoming eligible mid-wait does not restart the idle clock', async () => {
    const { engine, ctx, shown } = start();
    await vi.advanceTimersByTimeAsync(25_000);
    ctx.props = { plan: 'pro' };
    engine.refresh();
    expect(engine.debug().map((l) => l.status)).toEqual(['eligible', 'eligible']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(shown).toEqual([[1, 30]]);
  });

  it('an SPA page view starts it again', async () => {
    const { engine, shown } = start();
    await vi.advanceTimersByTimeAsync(25_000);
    engine.pageview();
    await vi.advanceTimersByTimeAsync(29_999);
    expect(shown).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(shown).toEqual([[1, 55]]);
  });
});
