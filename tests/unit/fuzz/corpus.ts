// The fuzz tests' campaigns and visitors: the real campaigns (README, demo, the targeting tests'
// fixture), a generator of targeting rules, the schema's vocabulary that keeps many mutants valid,
// and visitor contexts built from random records.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Campaign, Validated } from '../../../src/shared/campaign';
import { buildContext } from '../../../src/sdk/context/build';
import { mergeProps } from '../../../src/sdk/storage/props';
import type { Session, Visits } from '../../../src/sdk/storage/visits';
import type { CampaignHistory, VisitorContext } from '../../../src/sdk/context/types';
import { campaign as fixture, NOW } from '../targeting/fixtures';
import { clone, hostile, odd, ODD_KEYS, ODD_NUMBERS, ODD_STRINGS, type Rng } from './gen';

const root = join(import.meta.dirname, '../../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
export const fromReadme = [...readme.matchAll(/```json\n([\s\S]*?)```/g)]
  .flatMap((m) => {
    try {
      return [JSON.parse(m[1]) as unknown];
    } catch {
      return [];
    }
  })
  .flat()
  .filter((x): x is Campaign => !!x && typeof x == 'object' && 'layout' in x && 'id' in x);
export const demo = JSON.parse(readFileSync(join(root, 'demo/campaigns.json'), 'utf8')) as Campaign[];

const OPS = ['equals', 'not_equals', 'contains', 'not_contains', 'starts_with', 'not_starts_with', 'ends_with', 'not_ends_with', 'matches', 'not_matches', 'in', 'not_in', 'exists', 'not_exists'];
const NOPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'];
const DOPS = ['before', 'after', 'more_than_days_ago', 'less_than_days_ago'];
const FIELDS = ['url', 'path', 'query', 'hash', 'landing', 'referrer', 'referrer_domain'];
const UTMS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'];
const PROP_KEYS = ['plan', 'cart.total', 'cart', 'a.b', 'customer.lastPurchase', 'lastPurchase', 'vip', 'tags', 'toString', 'constructor', '__proto__.x', 'x.toString'];

/** Every word of the schema: mutations that pick them keep many mutants valid. */
export const VOCAB = {
  strings: [
    ...OPS, ...NOPS, ...DOPS, ...FIELDS, ...UTMS, ...PROP_KEYS,
    'page', 'utm', 'visitor', 'visits', 'pageviews', 'time', 'property', 'device', 'language', 'country', 'history', 'displays', 'signed_up',
    'new', 'returning', 'session', 'total', 'since_first_visit', 'on_site', 'string', 'number', 'boolean', 'date', 'is',
    'mobile', 'tablet', 'desktop', 'seen', 'closed', 'converted', 'clicked', 'FR', 'fr', 'en-gb',
    'landing', 'scroll', 'exit', 'inactivity', 'click', 'event', 'popup', 'fullscreen', 'bar', 'slidein', 'embed', 'top', 'bottom', 'top-left', 'bottom-right',
    'page', 'never', 'days', 'minutes', 'pages', 'draft', 'live', 'paused', 'a', 'b', 'control',
    '2025-06-01', '2025-06-18T12:00', '2025-06-18T12:00:00Z', '2025-03-30T02:30', '/shop', '#Promo', 'Mail', '.*', '(', 'ß', 'İ',
    ...ODD_STRINGS,
  ],
  keys: [
    'type', 'field', 'key', 'op', 'value', 'ci', 'is', 'days', 'scope', 'kind', 'in', 'campaign', 'event', 'negate', 'all', 'any', 'not',
    'start', 'end', 'hours', 'delay', 'percent', 'mobile', 'oncePerSession', 'seconds', 'selector', 'name', 'count', 'repeat', 'stopAfter',
    'every', 'n', 'close', 'signup', 'click', 'displays', 'id', 'weight', 'content', 'position', 'push', 'priority', 'control', 'status',
    'schedule', 'targeting', 'trigger', 'frequency', 'variants', 'layout',
  ],
  numbers: [...ODD_NUMBERS, 3, 5, 7, 12, 30, 42, 1001, NOW, NOW / 1000, 1750248000],
};

/** A random condition of any type, mostly valid. */
function condition(r: Rng): Record<string, unknown> {
  const str = () => (r.chance(0.2) ? r.pick(VOCAB.strings) : r.pick(['/shop', 'Mail', 'newsletter', 'fr', 'Pro', '42', '^/P', '(a|b)+$', '\\d']));
  const sv = (op: string) => (/exists/.test(op) ? {} : /in$/.test(op) || r.chance(0.3) ? { value: [str(), str()] } : { value: str() });
  const sop = () => r.pick(OPS);
  const num = () => r.pick([0, 1, 2, 3, 30, 1e6, 1.5, -1, r.pick(ODD_NUMBERS.filter((n) => isFinite(n)))]);
  const ci = () => (r.chance(0.3) ? { ci: r.chance(0.5) } : {});
  switch (r.int(13)) {
    case 0: {
      const op = sop();
      const field = r.pick(FIELDS);
      return { type: 'page', field, ...(field == 'query' ? { key: r.pick(['ref', 'empty', 'constructor', '__proto__', 'utm_source', 'x']) } : {}), op, ...sv(op), ...ci() };
    }
    case 1: {
      const op = sop();
      return { type: 'utm', field: r.pick(UTMS), op, ...sv(op), ...ci() };
    }
    case 2:
      return { type: 'visitor', is: r.pick(['new', 'returning']) };
    case 3:
      return { type: 'visits', op: r.pick(NOPS), value: num(), ...(r.chance(0.5) ? { days: r.pick([0, 1, 30, 1e9]) } : {}) };
    case 4:
      return { type: 'pageviews', scope: r.pick(['session', 'total']), op: r.pick(NOPS), value: num() };
    case 5:
      return { type: 'time', scope: r.pick(['since_first_visit', 'on_site']), op: r.pick(NOPS), value: num() };
    case 6: {
      const key = r.pick(PROP_KEYS);
      const kind = r.pick(['string', 'number', 'boolean', 'date']);
      if (kind == 'string') {
        const op = sop();
        return { type: 'property', key, kind, op, ...sv(op), ...ci() };
      }
      if (kind == 'number') {
        const op = r.pick([...NOPS, 'exists', 'not_exists']);
        return { type: 'property', key, kind, op, ...(/exists/.test(op) ? {} : { value: num() }) };
      }
      if (kind == 'boolean') {
        const op = r.pick(['is', 'exists', 'not_exists']);
        return { type: 'property', key, kind, op, ...(op == 'is' ? { value: r.chance(0.5) } : {}) };
      }
      const op = r.pick([...DOPS, 'exists', 'not_exists']);
      return { type: 'property', key, kind, op, ...(/exists/.test(op) ? {} : /ago/.test(op) ? { value: r.pick([0, 1, 30, 1e7]) } : { value: r.pick(['2025-06-01', '2025-06-18T12:00:00Z', 0, 1e11, 1750248000, 8.64e15, 1e300]) }) };
    }
    case 7:
      return { type: 'device', in: r.pick([['mobile'], ['desktop', 'tablet'], ['mobile', 'mobile']]) };
    case 8: {
      const op = sop();
      return { type: 'language', op, ...sv(op) };
    }
    case 9:
      return { type: 'country', op: r.pick(['in', 'not_in']), value: r.pick([['FR'], ['fr', 'BE'], ['US']]) };
    case 10:
      return { type: 'history', campaign: r.pick([1, 7, 12, 1001, 2 ** 40]), event: r.pick(['seen', 'closed', 'converted', 'clicked']), ...(r.chance(0.5) ? { negate: r.chance(0.5) } : {}) };
    case 11:
      return { type: 'displays', op: r.pick(NOPS), value: num() };
    default:
      return { type: 'signed_up', value: r.chance(0.5) };
  }
}

export function rule(r: Rng, depth = 0): Record<string, unknown> {
  const k = depth > 2 ? 9 : r.int(10);
  if (k < 2) return { all: Array.from({ length: r.int(4) }, () => rule(r, depth + 1)) };
  if (k < 4) return { any: Array.from({ length: r.int(4) }, () => rule(r, depth + 1)) };
  if (k < 5) return { not: rule(r, depth + 1) };
  const c = condition(r);
  // A key of another condition type, which the validator ignores here, holding anything JSON can.
  if (r.chance(0.15)) Object.defineProperty(c, r.pick(['field', 'key', 'scope', 'days', 'campaign', 'event', 'ci', 'negate', 'value', 'op', 'is', 'in']), { value: r.chance(0.5) ? hostile() : odd(r, true), enumerable: true, writable: true, configurable: true });
  return c;
}

/** A campaign to mutate: a real one (README, demo, the tests' fixture), or the fixture with random targeting, schedule and frequency. */
export function seedCampaign(r: Rng): Campaign {
  if (r.chance(0.4)) return clone(r.pick([...fromReadme, ...demo, fixture()]));
  const c = fixture({ id: r.pick([1, 2, 7, 12, 99]), targeting: rule(r) as Campaign['targeting'] }) as Campaign & Record<string, unknown>;
  if (r.chance(0.3)) c.schedule = r.pick([{ start: '2025-06-01', end: '2025-06-30' }, { days: [0, 3, 6], hours: [22, 6] }, { start: '2025-03-30T02:30', hours: [0, 24] }, { end: '2025-06-18T12:00:00Z' }]);
  if (r.chance(0.3)) c.frequency = r.pick([{ repeat: { every: 'never' } }, { repeat: { every: 'pages', n: 2 }, stopAfter: { displays: 1, click: true } }, { stopAfter: { close: false, signup: false } }]);
  if (r.chance(0.3)) (c.variants = [{ id: 'a', weight: 1 }, { id: 'b', weight: r.pick([0, 3]) }]), (c.control = r.pick([0, 50, 100]));
  return clone(c);
}

/** The value at an error's path ("targeting.all[2].op"). */
const at = (x: unknown, path: string): unknown =>
  path
    .split(/\.|(?=\[)/)
    .reduce<unknown>((v, k) => (v == null || typeof v != 'object' ? undefined : Object.getOwnPropertyDescriptor(v, k[0] == '[' ? k.slice(1, -1) : k)?.value), x);

/** Checks a verdict of the validator: ok, or an error naming a field where the campaign has (or lacks) it. */
export function verdict(c: unknown, v: Validated): void {
  if (v.ok) return void expect(v.campaign).toBe(c);
  expect(typeof v.error).toBe('string');
  // The browser core's own messages: "path: required" when absent, "path: bad value" when present.
  // The content validator's say what the value must be ("required" for an empty href too).
  const m = /^(.+): (required|bad value)$/.exec(v.error);
  if (/^(content|variants\[\d+\]\.content)\b/.test(v.error)) expect(v.error).toMatch(/^(content|variants\[\d+\]\.content)(\.[^.:[]+|\[\d+\])*: /);
  else if (m && m[1] != 'campaign') expect(at(c, m[1]) === undefined, v.error).toBe(m[2] == 'required');
  else expect(v.error).toBe('campaign: bad value');
}

/** Random but well-formed records and page, as the command layer hands them to buildContext. */
export function visitor(r: Rng): VisitorContext {
  const t = Math.floor(NOW / 1000);
  const sec = () => r.pick([0, 1, t, t - 60, t - 7200, t - 86400 * 40, t + 3600, 2 ** 32, 1e11, 1e300]);
  const href = r.pick([
    'https://shop.example.com/Products/shoes?ref=Mail&empty=#Promo',
    'https://shop.example.com/shop?utm_source=Newsletter&utm_source=x&__proto__=1&constructor=2',
    'http://127.0.0.1:8080/caf%C3%A9/%E0%A4%A?q=%F0%9F%98%80&toString=#%',
    'https://xn--bcher-kva.de/blog/?' + 'a=b&'.repeat(200),
    'https://a.test/' + 'x'.repeat(3000) + '?ref=' + '\u00e9'.repeat(100),
  ]);
  const str = () => r.pick(['', 'https://www.Google.com/search?q=x', 'x'.repeat(r.pick([1, 500, 5000])), '\uD800', 'newsletter', 'fr']);
  const session: Session = [sec(), sec(), r.pick([0, 1, 3, 1e9]), str(), str(), Array.from({ length: r.pick([0, 1, 5, 7]) }, str)];
  const visits: Visits = [sec(), r.pick([0, 1, 12, 1e15]), Array.from({ length: r.int(12) }, sec)];
  const history: Record<number, CampaignHistory> = {};
  for (let n = r.int(5); n--; ) {
    const id = r.pick([1, 2, 7, 12, 99, 1001, 1002, 2 ** 40]);
    history[id] = { d: r.pick([0, 1, 5]), c: r.pick([0, 1]), v: r.pick([0, 1]), k: r.pick([0, 2]), l: sec(), p: r.pick([0, 3, 12]), ...(r.chance(0.5) ? { g: r.pick(['a', 'b', 'control', 'default', 'gone']) } : {}) };
  }
  const props = randomProps(r);
  const noshow = r.chance(0.1);
  // From the command (filtered by mergeProps), or as a hand-edited cookie holds them (any JSON object).
  const merged = r.chance(0.5) ? mergeProps({}, props, () => {}) : props;
  const x = buildContext(href, session, visits, { signedUp: r.chance(0.3), history }, merged, noshow, window);
  x.now = r.pick([NOW, NOW + 864e5 * 300, 0, 8.64e15]);
  // The campaign set's, which may hold anything JSON can.
  x.country = r.pick<unknown>([null, 'FR', 'US', '', 7, hostile()]) as string | null;
  x.language = r.pick(['fr-fr', '', 'en-gb', 'İ'.toLowerCase()]);
  x.device = r.pick(['mobile', 'tablet', 'desktop']);
  return x;
}

/** Properties: the shapes the conditions read, with odd values and keys, nested, lists and all. */
export function randomProps(r: Rng, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const value = (): unknown => {
    switch (r.int(9)) {
      case 0:
        return r.pick(ODD_STRINGS);
      case 1:
        return r.pick(['Pro', 'pro', '42', ' ', '2025-06-01', '2025-06-18T12:00:00Z', '1e3', 'true']);
      case 2:
        return r.pick(ODD_NUMBERS.filter((n) => isFinite(n)));
      case 3:
        return r.chance(0.5);
      case 4:
        return null;
      case 5:
        return [r.pick<unknown>(['red', 5, null, hostile()]), 'Blue'];
      case 6:
        // What no conversion to text or number survives (JSON's own objects can be that).
        return hostile();
      default:
        return depth < 3 ? randomProps(r, depth + 1) : {};
    }
  };
  for (let n = r.int(5); n--; ) Object.defineProperty(o, r.pick([...PROP_KEYS, ...ODD_KEYS, 'total', 'lastPurchase', 'x']), { value: value(), enumerable: true, writable: true, configurable: true });
  return o;
}

