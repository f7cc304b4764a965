// Decisions per second of the pure evaluator (context + campaigns -> decision) for 1, 50 and
// 500 live campaigns of 10 conditions each. Run alone: npx tsx tests/bench/targeting.ts
import { compile, evaluate } from '../../src/sdk/targeting';
import type { Condition } from '../../src/shared/campaign-targeting';
import type { VisitorContext } from '../../src/sdk/context/types';

const NOW = Date.UTC(2025, 5, 18, 12);
const DAY = 864e5;

const ctx: VisitorContext = {
  now: NOW,
  url: 'https://shop.example.com/products/shoes?ref=mail',
  path: '/products/shoes',
  query: { ref: 'mail' },
  hash: '',
  session: { start: NOW - 60_000, landing: 'https://shop.example.com/', referrer: 'https://www.google.com/', utm: { utm_source: 'newsletter' }, pageviews: 3 },
  visits: [NOW - 20 * DAY, NOW - 3 * DAY, NOW],
  firstVisit: NOW - 20 * DAY,
  totalPageviews: 14,
  props: { plan: 'pro', cart: { total: 42 }, lastPurchase: '2025-05-01' },
  device: 'desktop',
  language: 'en-gb',
  country: 'FR',
  history: { 3: { d: 1, c: 0, v: 0, k: 0, l: (NOW - 2 * DAY) / 1000, p: 4 } },
  signedUp: false,
  noshow: false,
};

/** 10 conditions that all pass, so every campaign is evaluated in full (the worst case). */
const conditions = (i: number): Condition[] => [
  { type: 'page', field: 'path', op: 'starts_with', value: '/products' },
  { type: 'page', field: 'url', op: 'matches', value: `shoes|boots|item-${i}` },
  { type: 'page', field: 'query', key: 'ref', op: 'in', value: ['mail', 'ads'], ci: true },
  { type: 'utm', field: 'utm_source', op: 'contains', value: 'news' },
  { type: 'visits', op: 'gte', value: 2, days: 30 },
  { type: 'pageviews', scope: 'session', op: 'lte', value: 10 },
  { type: 'property', key: 'cart.total', kind: 'number', op: 'gt', value: i % 40 },
  { type: 'property', key: 'lastPurchase', kind: 'date', op: 'more_than_days_ago', value: 7 },
  { type: 'device', in: ['desktop', 'tablet'] },
  { type: 'country', op: 'not_in', value: ['US', 'CA'] },
];

function set(n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    name: `c${i + 1}`,
    status: 'live',
    priority: i % 5,
    schedule: { days: [1, 2, 3, 4, 5], hours: [8, 20] },
    targeting: { all: conditions(i) },
    trigger: { type: 'landing' },
    frequency: { repeat: { every: 'days', n: 1 } },
    variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }],
    layout: { type: 'popup' },
    content: { label: 'x', steps: [{ blocks: [] }], success: { blocks: [] } },
  }));
}

export async function bench(): Promise<string[]> {
  const lines: string[] = [];
  for (const n of [1, 50, 500]) {
    const k = compile(set(n), { timezone: 'Europe/Paris', log: () => {} });
    if (evaluate(k, ctx, Math.random).eligible.length != n) throw new Error('bench campaigns must all be eligible');
    // Warm up, then time enough decisions for ~300 ms.
    const runs = Math.max(200, Math.round(1_000_000 / n));
    for (let i = 0; i < runs / 10; i++) evaluate(k, ctx, Math.random);
    const t = performance.now();
    for (let i = 0; i < runs; i++) evaluate(k, { ...ctx, now: NOW + i }, Math.random);
    const ms = (performance.now() - t) / runs;
    lines.push(`targeting: ${n} campaigns x 10 conditions: ${ms.toFixed(4)} ms/decision (${Math.round(1000 / ms).toLocaleString('en-US')} decisions/s)`);
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const l of await bench()) console.log(l);
