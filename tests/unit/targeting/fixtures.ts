// Shared builders for targeting tests: a visitor context and a valid campaign.
import type { Campaign } from '../../../src/shared/campaign';
import type { VisitorContext } from '../../../src/sdk/context/types';

export const NOW = Date.UTC(2025, 5, 18, 12, 0, 0); // Wednesday 18 June 2025, 12:00 UTC
export const DAY = 864e5;

export function ctx(over: Partial<VisitorContext> = {}): VisitorContext {
  return {
    now: NOW,
    url: 'https://shop.example.com/Products/shoes?ref=Mail&empty=#Promo',
    path: '/Products/shoes',
    query: { ref: 'Mail', empty: '' },
    hash: 'Promo', // without its '#', as the context gives it
    session: {
      start: NOW - 120_000,
      landing: 'https://shop.example.com/landing?utm_source=news',
      referrer: 'https://www.Google.com/search?q=shoes',
      utm: { utm_source: 'newsletter', utm_medium: 'email' },
      pageviews: 3,
    },
    visits: [NOW - 40 * DAY, NOW - 20 * DAY, NOW - 2 * DAY, NOW],
    firstVisit: NOW - 40 * DAY,
    totalPageviews: 12,
    props: { plan: 'Pro', cart: { total: 42, items: 3 }, 'a.b': 'flat', vip: true, tags: ['red', 'Blue'], lastPurchase: new Date(NOW - 45 * DAY).toISOString(), seconds: Math.floor((NOW - 3 * DAY) / 1000), nul: null },
    device: 'desktop',
    language: 'fr-fr',
    country: 'FR',
    history: {},
    signedUp: false,
    noshow: false,
    ...over,
  };
}

export function campaign(over: Partial<Campaign> & Record<string, unknown> = {}): Campaign {
  return {
    id: 1,
    name: 'Welcome',
    status: 'live',
    trigger: { type: 'landing' },
    layout: { type: 'popup' },
    content: { label: 'Welcome', steps: [{ blocks: [{ type: 'heading', text: 'Hi' }] }], success: { blocks: [{ type: 'heading', text: 'Thanks' }] } },
    ...over,
  } as Campaign;
}
