// Page-view rules through the real command layer and engine where storage keeps nothing (cookies
// off): the page's own page views are the total, so an embed's default repeat (every page view),
// "every": "pages" and pageviews triggers still count them.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import Cookies from 'js-cookie';
import { createPoplet, type Command } from '../../../src/sdk/commands/create';
import { makeEngine } from '../../../src/sdk/engine/engine';
import type { PopletUi } from '../../../src/sdk/render/contract';
import type { StartCollect } from '../../../src/sdk/collect/contract';
import type { Campaign, CampaignSet } from '../../../src/shared/campaign';
import type { VisitorContext } from '../../../src/sdk/context/types';

/** Control group only: counted as displays at once, with no chunk to load. */
const campaign = (id: number, extra: Partial<Campaign>): Campaign => ({
  id,
  name: 'C' + id,
  status: 'live',
  control: 100,
  trigger: { type: 'landing' },
  layout: { type: 'popup' },
  content: { label: 'c', steps: [{ blocks: [{ type: 'heading', text: 'Hi' }] }], success: { blocks: [] } },
  ...extra,
});

/** The totals the triggers were armed with, one per arming. */
let totals: number[];

beforeEach(() => {
  for (const name of Object.keys(Cookies.get())) Cookies.remove(name, { path: '/' });
  localStorage.clear();
  sessionStorage.clear();
  totals = [];
  // Cookies off: writes are dropped, reads are empty (an own property shadows Document's).
  Object.defineProperty(document, 'cookie', { get: () => '', set: () => {}, configurable: true });
  vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.stubGlobal('navigator', { ...navigator, sendBeacon: () => true });
  const set: CampaignSet = {
    site: 's1',
    country: null,
    campaigns: [
      // No frequency: an embed repeats every page view.
      campaign(1, { layout: { type: 'embed', selector: '#form' } }),
      campaign(2, { frequency: { repeat: { every: 'pages', n: 2 } } }),
    ],
  };
  vi.stubGlobal('fetch', async () => new Response(JSON.stringify(set)));
});
afterEach(() => {
  delete (document as { cookie?: string }).cookie;
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const settle = async () => {
  await new Promise((r) => setTimeout(r, 0));
  await new Promise((r) => setTimeout(r, 0));
};

/** The core with every eligible campaign's trigger firing at once. */
async function boot(): Promise<[Command, () => VisitorContext]> {
  let context!: () => VisitorContext;
  const [run, start] = createPoplet(window, new URL('https://popups.test/poplet.js?site=s1'), [], (deps) => {
    context = deps.context;
    return makeEngine(
      deps,
      (campaigns, fire) => {
        campaigns.forEach((c) => queueMicrotask(() => fire(c.id)));
        return { off: {}, pageview: (_session, total) => void totals.push(total), event: () => {}, dispose: () => {} };
      },
      () => Promise.reject(new Error('no chunk in this test')) as Promise<PopletUi>,
      () => Promise.reject(new Error('no chunk in this test')) as Promise<StartCollect>,
      () => undefined,
    );
  });
  start();
  await settle();
  return [run, context];
}

// SPA page views: the URL changes, then the router reports it.
it('where storage keeps nothing, an embed counts on every SPA page view, "every": "pages" every other one, and triggers see the total', async () => {
  const [run, context] = await boot();
  const displays = () => [1, 2].map((id) => context().history[id]?.d);
  expect(displays()).toEqual([1, 1]);
  history.pushState(null, '', '/spa-1');
  run('pageview');
  await settle();
  // Before, the total stayed 0: the embed was "already shown this page" for the rest of the page.
  expect(displays()).toEqual([2, 1]);
  expect((run('debug') as { campaigns: unknown[] }).campaigns).toContainEqual(expect.objectContaining({ id: 2, reason: 'already shown in the last 2 pages' }));
  history.pushState(null, '', '/spa-2');
  run('pageview');
  await settle();
  expect(displays()).toEqual([3, 2]);
  expect(context().history[1]).toMatchObject({ p: 3 });
  expect(totals).toEqual([1, 2, 3]);
});
