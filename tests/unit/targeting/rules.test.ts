import { describe, expect, it, vi } from 'vitest';
import type { Condition, Rule } from '../../../src/shared/campaign-targeting';
import { compileRule, prop } from '../../../src/sdk/targeting/rules';
import type { VisitorContext } from '../../../src/sdk/context/types';
import { ctx, DAY, NOW } from './fixtures';

const SELF = 7;
function run(r: Rule, over: Partial<VisitorContext> = {}, log = vi.fn()): string | undefined {
  const t = compileRule(r, log);
  return t && t(ctx(over), SELF);
}
const pass = (r: Rule, over?: Partial<VisitorContext>) => expect(run(r, over), JSON.stringify(r)).toBeUndefined();
const fail = (r: Rule, over?: Partial<VisitorContext>) => {
  const w = run(r, over);
  expect(w, JSON.stringify(r)).toBeTypeOf('string');
  return w as string;
};
const page = (field: string, op: string, value?: unknown, extra: object = {}) => ({ type: 'page', field, op, value, ...extra }) as Condition;

describe('page conditions: every string operator', () => {
  const table: Array<[string, string, unknown, boolean]> = [
    ['path', 'equals', '/Products/shoes', true],
    ['path', 'equals', '/products/shoes', false],
    ['path', 'not_equals', '/products/shoes', true],
    ['path', 'not_equals', '/Products/shoes', false],
    ['path', 'contains', 'shoe', true],
    ['path', 'contains', 'boot', false],
    ['path', 'not_contains', 'boot', true],
    ['path', 'not_contains', 'shoe', false],
    ['path', 'starts_with', '/Products', true],
    ['path', 'starts_with', '/Blog', false],
    ['path', 'not_starts_with', '/Blog', true],
    ['path', 'not_starts_with', '/Products', false],
    ['path', 'ends_with', 'shoes', true],
    ['path', 'ends_with', 'hats', false],
    ['path', 'not_ends_with', 'hats', true],
    ['path', 'not_ends_with', 'shoes', false],
    ['path', 'matches', '^/Products/\\w+$', true],
    ['path', 'matches', '^/products', false],
    ['path', 'not_matches', '^/products', true],
    ['path', 'not_matches', 'shoes$', false],
    ['path', 'in', ['/a', '/Products/shoes'], true],
    ['path', 'in', ['/a', '/b'], false],
    ['path', 'not_in', ['/a', '/b'], true],
    ['path', 'not_in', ['/Products/shoes'], false],
    ['path', 'exists', undefined, true],
    ['path', 'not_exists', undefined, false],
    ['url', 'contains', 'shop.example.com/Products', true],
    ['url', 'starts_with', 'http://', false],
    ['hash', 'equals', 'Promo', true],
    ['hash', 'equals', '#Promo', true],
    ['hash', 'in', ['#x', '#Promo'], true],
    ['landing', 'contains', 'utm_source=news', true],
    ['referrer', 'starts_with', 'https://www.Google.com', true],
    ['referrer_domain', 'equals', 'google.com', true],
    ['referrer_domain', 'ends_with', 'google.com', true],
    ['path', 'contains', ['boot', 'shoe'], true],
    ['path', 'not_contains', ['boot', 'shoe'], false],
  ];
  it.each(table)('%s %s %j -> %s', (field, op, value, ok) => (ok ? pass : fail)(page(field, op, value)));

  it('case-insensitive option lowers both sides, also for regexes and lists', () => {
    pass(page('path', 'equals', '/PRODUCTS/SHOES', { ci: true }));
    pass(page('path', 'matches', '^/products', { ci: true }));
    pass(page('path', 'in', ['/products/shoes'], { ci: true }));
    pass(page('referrer_domain', 'equals', 'GOOGLE.com', { ci: true }));
    fail(page('path', 'not_contains', 'PRODUCTS', { ci: true }));
  });

  it('values are literal text for every operator but matches', () => {
    pass(page('url', 'contains', '?ref=Mail&'));
    fail(page('path', 'contains', '.'));
    fail(page('path', 'equals', '/Products/shoe.'));
    pass(page('path', 'ends_with', 's/shoes'));
    fail(page('path', 'starts_with', '(/Products)'));
    pass(page('path', 'matches', '(/Products)'));
    pass({ type: 'property', kind: 'string', key: 'x', op: 'equals', value: 'a\\b[c]$', ci: true }, { props: { x: 'A\\B[C]$' } });
    fail({ type: 'property', kind: 'string', key: 'x', op: 'equals', value: 'a\\b[c]$' }, { props: { x: 'A\\B[C]$' } });
  });

  it('query parameters: value, empty value, missing', () => {
    pass(page('query', 'equals', 'Mail', { key: 'ref' }));
    pass(page('query', 'exists', undefined, { key: 'ref' }));
    fail(page('query', 'exists', undefined, { key: 'empty' }));
    fail(page('query', 'exists', undefined, { key: 'nope' }));
    pass(page('query', 'not_exists', undefined, { key: 'nope' }));
    fail(page('query', 'equals', 'x', { key: 'nope' }));
    pass(page('query', 'not_equals', 'x', { key: 'nope' }));
    expect(fail(page('query', 'equals', 'x', { key: 'nope' }))).toBe("page query nope is missing, needs 'x'");
  });

  it('no referrer: referrer and its domain do not exist', () => {
    const s = { ...ctx().session, referrer: '' };
    fail(page('referrer', 'exists'), { session: s });
    pass(page('referrer_domain', 'not_exists'), { session: s });
    fail(page('referrer_domain', 'contains', 'google'), { session: s });
  });

  it('no hash: exists fails', () => {
    pass(page('hash', 'not_exists'), { hash: '' });
  });

  it('an invalid regex disables only that condition, with one log line', () => {
    const log = vi.fn();
    const r: Rule = { all: [page('path', 'matches', '(['), page('path', 'contains', 'boot')] };
    expect(run(r, {}, log)).toBe("page path is '/Products/shoes', needs containing 'boot'");
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0][0]).toMatch(/^page path: invalid regex, condition disabled: '\(\[' \(SyntaxError/);
    // Disabled inside `any` does not make the group pass on its own.
    expect(run({ any: [page('path', 'matches', '(['), page('path', 'contains', 'boot')] })).toMatch(/boot/);
    pass({ any: [page('path', 'matches', '(['), page('path', 'contains', 'shoe')] });
  });

  it('a rule or a group with nothing but disabled conditions fails, negated or not', () => {
    const bad = page('path', 'matches', '([');
    const why = 'page path: invalid regex, condition disabled';
    for (const r of [bad, { any: [bad] }, { all: [bad] }, { not: bad }, { not: { any: [bad] } }, { not: { all: [bad, bad] } }, { any: [{ all: [] }, bad] }] as Rule[])
      expect(run(r), JSON.stringify(r)).toBe(why);
    // Such a group is a failing member of its parent, not a disabled one.
    expect(run({ all: [{ any: [bad] }, page('path', 'contains', 'shoe')] })).toBe(why);
    pass({ any: [{ any: [bad] }, page('path', 'contains', 'shoe')] });
    pass({ all: [bad, page('path', 'contains', 'shoe')] });
  });

  it('regexes are compiled once (one per condition), not per evaluation', () => {
    const Orig = RegExp;
    let n = 0;
    globalThis.RegExp = class extends Orig {
      constructor(p: string, f?: string) {
        super(p, f);
        n++;
      }
    } as RegExpConstructor;
    try {
      const t = compileRule(page('path', 'matches', ['shoes', 'boots']), vi.fn())!;
      expect(n).toBe(1);
      for (let i = 0; i < 5; i++) expect(t(ctx(), 1)).toBeUndefined();
      expect(n).toBe(1);
    } finally {
      globalThis.RegExp = Orig;
    }
  });
});

describe('utm, language, country, device', () => {
  it('utm of the session first page', () => {
    pass({ type: 'utm', field: 'utm_source', op: 'equals', value: 'newsletter' });
    pass({ type: 'utm', field: 'utm_campaign', op: 'not_exists' });
    fail({ type: 'utm', field: 'utm_medium', op: 'equals', value: 'EMAIL' });
    pass({ type: 'utm', field: 'utm_medium', op: 'equals', value: 'EMAIL', ci: true });
    fail({ type: 'utm', field: 'utm_term', op: 'contains', value: 'x' });
  });
  it('language is always case-insensitive', () => {
    pass({ type: 'language', op: 'starts_with', value: 'FR' });
    pass({ type: 'language', op: 'in', value: ['en-GB', 'fr-FR'] });
    fail({ type: 'language', op: 'starts_with', value: 'en' });
  });
  it('country in / not in; unknown country is in no list', () => {
    pass({ type: 'country', op: 'in', value: ['de', 'fr'] });
    fail({ type: 'country', op: 'not_in', value: ['FR'] });
    fail({ type: 'country', op: 'in', value: ['FR'] }, { country: null });
    pass({ type: 'country', op: 'not_in', value: ['FR'] }, { country: null });
    expect(fail({ type: 'country', op: 'in', value: ['de', 'at'] })).toBe("country is 'FR', needs 'de' or 'at'");
  });
  it('device class', () => {
    pass({ type: 'device', in: ['desktop', 'tablet'] });
    expect(fail({ type: 'device', in: ['mobile'] }, { device: 'tablet' })).toBe("device is 'tablet', needs 'mobile'");
  });
});

describe('visitor, visits, pageviews, time', () => {
  it('new vs returning', () => {
    pass({ type: 'visitor', is: 'returning' });
    fail({ type: 'visitor', is: 'new' });
    pass({ type: 'visitor', is: 'new' }, { visits: [NOW] });
    pass({ type: 'visitor', is: 'new' }, { visits: [] });
  });
  it('visited N times in the last D days, with the plain-words reason', () => {
    pass({ type: 'visits', op: 'gte', value: 4 });
    pass({ type: 'visits', op: 'eq', value: 2, days: 7 });
    pass({ type: 'visits', op: 'eq', value: 3, days: 30 });
    expect(fail({ type: 'visits', op: 'gte', value: 5, days: 30 })).toBe('visits in last 30 days is 3, needs ≥ 5');
  });
  it('every number operator', () => {
    const t: Array<[string, number, boolean]> = [
      ['eq', 3, true], ['eq', 4, false], ['ne', 4, true], ['ne', 3, false],
      ['gt', 2, true], ['gt', 3, false], ['gte', 3, true], ['gte', 4, false],
      ['lt', 4, true], ['lt', 3, false], ['lte', 3, true], ['lte', 2, false],
    ];
    for (const [op, value, ok] of t) (ok ? pass : fail)({ type: 'pageviews', scope: 'session', op, value } as Condition);
  });
  it('pageviews in total', () => {
    pass({ type: 'pageviews', scope: 'total', op: 'eq', value: 12 });
  });
  it('time since first visit and on site, in seconds', () => {
    pass({ type: 'time', scope: 'on_site', op: 'gte', value: 120 });
    expect(fail({ type: 'time', scope: 'on_site', op: 'gt', value: 120 })).toBe('time on_site is 120, needs > 120');
    pass({ type: 'time', scope: 'since_first_visit', op: 'gt', value: 39 * 86400 });
    fail({ type: 'time', scope: 'since_first_visit', op: 'lt', value: 86400 });
  });
});

describe('custom properties', () => {
  const p = (kind: string, key: string, op: string, value?: unknown) => ({ type: 'property', kind, key, op, value }) as Condition;
  it('dot paths, and an exact key with a dot wins', () => {
    expect(prop({ a: { b: { c: 1 } } }, 'a.b.c')).toBe(1);
    expect(prop({ 'a.b': 2, a: { b: 3 } }, 'a.b')).toBe(2);
    expect(prop({ a: 1 }, 'a.b.c')).toBeUndefined();
    pass(p('number', 'cart.total', 'gt', 40));
    pass(p('string', 'a.b', 'equals', 'flat'));
  });
  it('strings: equals, contains, starts, in list, case option; an array is no text', () => {
    pass(p('string', 'plan', 'equals', 'Pro'));
    fail(p('string', 'plan', 'equals', 'pro'));
    pass({ type: 'property', kind: 'string', key: 'plan', op: 'equals', value: 'pro', ci: true });
    pass(p('string', 'plan', 'contains', 'r'));
    pass(p('string', 'plan', 'starts_with', 'P'));
    pass(p('string', 'plan', 'in', ['Free', 'Pro']));
    fail(p('string', 'plan', 'not_in', ['Free', 'Pro']));
    // Properties never store arrays (mergeProps refuses them); one in a hand-edited cookie matches nothing.
    fail(p('string', 'tags', 'equals', 'red'));
    fail(p('string', 'tags', 'contains', 'red'));
    pass(p('string', 'cart.items', 'equals', '3'));
  });
  it('reads own keys only: built-in object members are not properties', () => {
    fail(p('string', 'constructor', 'exists'));
    fail(p('string', 'toString', 'exists'));
    fail(p('string', 'user.constructor', 'exists'));
    pass(p('string', 'constructor', 'not_exists'));
  });

  it('strings: a missing property fails positive operators and passes negated ones', () => {
    fail(p('string', 'nope', 'equals', 'x'));
    pass(p('string', 'nope', 'not_equals', 'x'));
    pass(p('string', 'nope', 'not_contains', 'x'));
    fail(p('string', 'cart', 'equals', '[object Object]'));
  });
  it('numbers compare, accept numeric strings, fail when missing or not numeric', () => {
    pass(p('number', 'cart.total', 'eq', 42));
    pass(p('number', 'cart.total', 'lte', 42));
    fail(p('number', 'cart.total', 'lt', 42));
    pass(p('number', 'n', 'gt', 1), { props: { n: '5' } });
    fail(p('number', 'n', 'ne', 1), { props: { n: 'abc' } });
    fail(p('number', 'nope', 'ne', 1));
    fail(p('number', 'nope', 'lt', 1));
    fail(p('number', 'n', 'eq', 0), { props: { n: '' } });
    expect(fail(p('number', 'nope', 'gte', 1))).toBe('property nope is missing, needs ≥ 1');
  });
  it('booleans', () => {
    pass(p('boolean', 'vip', 'is', true));
    fail(p('boolean', 'vip', 'is', false));
    pass(p('boolean', 'b', 'is', false), { props: { b: 'false' } });
    fail(p('boolean', 'nope', 'is', false));
  });
  it('exists / not exists for every kind; null does not exist', () => {
    for (const kind of ['string', 'number', 'boolean', 'date']) {
      pass(p(kind, 'plan', 'exists'));
      fail(p(kind, 'nope', 'exists'));
      pass(p(kind, 'nope', 'not_exists'));
      pass(p(kind, 'nul', 'not_exists'));
    }
  });
  it('dates: before/after a date, more/less than N days ago; ISO strings and epoch numbers', () => {
    pass(p('date', 'lastPurchase', 'before', '2025-05-10'));
    fail(p('date', 'lastPurchase', 'after', '2025-05-10'));
    pass(p('date', 'lastPurchase', 'after', '2025-05-01T00:00:00Z'));
    pass(p('date', 'lastPurchase', 'more_than_days_ago', 30));
    fail(p('date', 'lastPurchase', 'less_than_days_ago', 30));
    pass(p('date', 'lastPurchase', 'less_than_days_ago', 60));
    pass(p('date', 'seconds', 'less_than_days_ago', 4));
    pass(p('date', 'ms', 'more_than_days_ago', 1), { props: { ms: NOW - 2 * DAY } });
    fail(p('date', 'nope', 'before', '2030-01-01'));
    fail(p('date', 'nope', 'more_than_days_ago', 1));
    fail(p('date', 'bad', 'before', '2030-01-01'), { props: { bad: 'not a date' } });
    expect(fail(p('date', 'lastPurchase', 'less_than_days_ago', 30))).toMatch(/^property lastPurchase is '2025-05-04T12:00:00.000Z', needs less than 30 days ago$/);
  });
});

describe('history, displays, sign-up', () => {
  const h = { 3: { d: 2, c: 1, v: 0, k: 0, l: 1, p: 1 }, [SELF]: { d: 4, c: 0, v: 0, k: 0, l: 1, p: 1 } };
  it('has seen / closed / converted / clicked campaign X, and negation', () => {
    pass({ type: 'history', campaign: 3, event: 'seen' }, { history: h });
    pass({ type: 'history', campaign: 3, event: 'closed' }, { history: h });
    fail({ type: 'history', campaign: 3, event: 'converted' }, { history: h });
    fail({ type: 'history', campaign: 3, event: 'clicked' }, { history: h });
    pass({ type: 'history', campaign: 3, event: 'converted', negate: true }, { history: h });
    fail({ type: 'history', campaign: 99, event: 'seen' }, { history: h });
    pass({ type: 'history', campaign: 99, event: 'seen', negate: true }, { history: h });
    expect(fail({ type: 'history', campaign: 99, event: 'seen' })).toBe('history 99 seen is false, needs true');
  });
  it('displays of this campaign so far', () => {
    pass({ type: 'displays', op: 'lt', value: 5 }, { history: h });
    fail({ type: 'displays', op: 'lt', value: 4 }, { history: h });
    pass({ type: 'displays', op: 'eq', value: 0 });
  });
  it('any sign-up ever', () => {
    pass({ type: 'signed_up', value: false });
    fail({ type: 'signed_up', value: true });
    pass({ type: 'signed_up', value: true }, { signedUp: true });
  });
});

describe('conditions without an operator read their own fields only', () => {
  // Unknown keys pass the validator (forward compatibility): an op, value, in or is on these must change nothing.
  const stray = (r: object) => r as Condition;
  it('device: a stray op neither crashes nor inverts', () => {
    pass(stray({ type: 'device', in: ['desktop'], op: 5 }));
    pass(stray({ type: 'device', in: ['desktop'], op: 'not_in' }));
    pass(stray({ type: 'device', in: ['desktop'], value: 'mobile' }));
    expect(fail(stray({ type: 'device', in: ['mobile'], op: 'not_in' }))).toBe("device is 'desktop', needs 'mobile'");
  });
  it('visitor: a stray op, value or in changes nothing', () => {
    pass(stray({ type: 'visitor', is: 'returning', op: 'gt' }));
    pass(stray({ type: 'visitor', is: 'returning', value: 'new' }));
    pass(stray({ type: 'visitor', is: 'returning', in: ['new'] }));
    fail(stray({ type: 'visitor', is: 'new', op: 'not_equals' }));
  });
  it('history: a stray value, op, in or is changes nothing', () => {
    const h = { 3: { d: 2, c: 1, v: 0, k: 0, l: 1, p: 1 } };
    pass(stray({ type: 'history', campaign: 3, event: 'seen', value: 'x' }), { history: h });
    pass(stray({ type: 'history', campaign: 3, event: 'converted', negate: true, value: 'x' }), { history: h });
    pass(stray({ type: 'history', campaign: 3, event: 'seen', op: 'not_equals', in: ['x'], is: 'y' }), { history: h });
  });
  it('signed_up: a stray op changes nothing', () => {
    pass(stray({ type: 'signed_up', value: false, op: 'not_equals' }));
    fail(stray({ type: 'signed_up', value: true, op: 'not_equals' }));
  });
});

// Found by tests/unit/fuzz: JSON objects with a "toString" key that is no function, which String()
// and template literals cannot convert.
describe('objects that cannot be converted to text', () => {
  const odd = () => JSON.parse('{"toString": "x"}');
  it('a property holding one fails string, number and date conditions, with its reason', () => {
    const props = { cart: odd() };
    const c = (kind: string, op: string, value?: unknown) => ({ type: 'property', key: 'cart', kind, op, value }) as Condition;
    expect(fail(c('string', 'equals', 'x'), { props })).toBe(`property cart is {"toString":"x"}, needs 'x'`);
    expect(fail(c('number', 'eq', 1), { props })).toBe('property cart is {"toString":"x"}, needs = 1');
    expect(fail(c('number', 'ne', 1), { props })).toMatch(/^property cart is /);
    expect(fail(c('date', 'before', '2025-01-01'), { props })).toMatch(/^property cart is /);
    expect(fail(c('string', 'not_exists'), { props })).toBe('property cart is {"toString":"x"}, needs not to exist');
    pass(c('boolean', 'exists'), { props });
  });
  it("a key of another condition type, ignored by the validator, may hold one: the condition still compiles and runs", () => {
    pass({ type: 'pageviews', scope: 'session', op: 'gte', value: 1, days: odd(), key: odd() } as never);
    pass({ type: 'language', op: 'equals', value: 'fr-fr', field: odd() } as never);
    expect(fail({ type: 'history', campaign: 3, event: 'seen', field: [odd()] } as never)).toBe('history 3 seen is false, needs true');
  });
});

describe('all / any / not trees', () => {
  const yes: Condition = { type: 'device', in: ['desktop'] };
  const no: Condition = { type: 'device', in: ['mobile'] };
  it('all: first failing child is the reason', () => {
    pass({ all: [yes, yes] });
    expect(run({ all: [yes, no, { type: 'signed_up', value: true }] })).toBe("device is 'desktop', needs 'mobile'");
  });
  it('any: passes on one, lists all reasons when none match', () => {
    pass({ any: [no, yes] });
    expect(run({ any: [no, { type: 'signed_up', value: true }] })).toBe("none matched: device is 'desktop', needs 'mobile'; or signed up is false, needs true");
  });
  it('not, including over groups (De Morgan) and double negation', () => {
    pass({ not: no });
    expect(run({ not: yes })).toBe("device is 'desktop', needs not 'desktop'");
    pass({ not: { all: [yes, no] } });
    fail({ not: { any: [no, yes] } });
    pass({ not: { not: yes } });
    pass({ not: { type: 'page', field: 'path', op: 'starts_with', value: '/checkout' } });
    expect(run({ not: { type: 'page', field: 'path', op: 'not_contains', value: 'shoes' } })).toBeUndefined();
  });
  it('empty groups put no constraint', () => {
    expect(compileRule({ all: [] }, vi.fn())).toBeUndefined();
    expect(compileRule({ not: { any: [] } }, vi.fn())).toBeUndefined();
    pass({ all: [{ any: [] }, yes] });
  });
});
