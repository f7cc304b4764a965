// Compiles a targeting tree into one closure, once per campaign set. The closure returns
// undefined when the visitor matches, else the first failing condition in plain words:
// "<label> is <actual>, needs [not ]<operator> <value>", the label made of the condition's own
// fields ("visits in last 30 days", "page query ref", "property cart.total").
// `not` is pushed down to the leaves (De Morgan), so every leaf knows how to explain itself.
// A condition type only says which value it reads; the operator alone decides the test, as
// operator names never repeat across kinds (equals / eq / before / exists).
import type { Condition, Rule } from '../../shared/campaign-targeting';
import { toTime } from '../../shared/campaign-targeting';
import type { VisitorContext } from '../context/types';

/** undefined = matches; a string = why not. */
export type Test = (x: VisitorContext, self: number) => string | undefined;
type Log = (line: string) => void;
/** Any condition, read field by field. */
type C = Partial<Record<'field' | 'key' | 'scope' | 'event' | 'op' | 'is', string>> & { type: string; days?: number; campaign: number; value?: unknown; in?: string[]; negate?: boolean; ci?: boolean };

// A const enum: esbuild writes the value where it is used instead of carrying a constant (bytes).
const enum Ms {
  DAY = 864e5,
}
// CMP, STR, HISTORY and GET are read by key only: their entries are in the order that gzips smallest.
/** Number and date operators: words, and the signs of (actual - wanted) that pass, as bits (1 <, 2 =, 4 >). */
const CMP: Record<string, [string, number]> = {
  before: ['before', 1], eq: ['=', 2], ne: ['≠', 5], after: ['after', 4], gt: ['>', 4], gte: ['≥', 6], lt: ['<', 1], lte: ['≤', 3],
  more_than_days_ago: ['more than', 1], less_than_days_ago: ['less than', 4],
};
/** String operators as regexes: words, and what goes before and after the (escaped) value. `in` and `is` are `equals`. */
const STR: Record<string, string[]> = {
  contains: ['containing ', '', ''],
  starts_with: ['starting with ', '^', ''],
  equals: ['', '^', '$'],
  ends_with: ['ending with ', '', '$'],
  matches: ['matching '],
};
const HISTORY: Record<string, 'd' | 'c' | 'v' | 'k'> = { seen: 'd', converted: 'v', clicked: 'k', closed: 'c' };

// JSON, not String(): converting an object whose "toString" key is no function (a property's) throws.
const q = (v: unknown): string => (v == null || v === '' ? 'missing' : typeof v == 'string' ? `'${v}'` : JSON.stringify(v));
// Referrers are absolute URLs without credentials: the host follows the first '//'.
const host = (u: string): string => ((/\/\/([^/:?#]*)/.exec(u) || '')[1] || '').toLowerCase().replace(/^www\./, '');

// Own keys only: "property constructor exists" must not be true for every visitor.
const own = (v: unknown, k: string): unknown =>
  v && typeof v == 'object' && {}.hasOwnProperty.call(v, k) ? (v as Record<string, unknown>)[k] : undefined;
/**
 * A custom property by exact key, else by dot path into nested objects. A loop, not reduce:
 * Prototype.js 1.6 replaces Array#reduce with one that returns the array (or its first item).
 */
export const prop = (o: Record<string, unknown>, key: string): unknown => {
  let v = own(o, key);
  if (v === undefined) {
    v = o;
    for (const k of key.split('.')) v = own(v, k);
  }
  return v;
};

type Get = (x: VisitorContext, self: number) => unknown;
/** The getter of the value each condition type reads, made once; language, device and country are read by name. */
const GET: Record<string, (c: C) => Get> = {
  page: ({ field, key }) =>
    field == 'query' ? (x) => x.query[key!] : field == 'referrer_domain' ? (x) => host(x.session.referrer) : (x) => ((field! in x ? x : x.session) as unknown as Record<string, string>)[field!],
  property: ({ key }) => (x) => prop(x.props, key!),
  utm: (c) => (x) => x.session.utm[c.field as 'utm_source'],
  visitor: () => (x) => (x.visits.length > 1 ? 'returning' : 'new'),
  visits: ({ days }) => (x) => x.visits.filter((t) => !days || t > x.now - days * Ms.DAY).length,
  pageviews: (c) => (c.scope == 'total' ? (x) => x.totalPageviews : (x) => x.session.pageviews),
  time: (c) => (x) => Math.floor((x.now - (c.scope == 'on_site' ? x.session.start : x.firstVisit)) / 1e3),
  // own: a campaign without an entry yet reads undefined.
  history: (c) => (x) => (own(x.history[c.campaign], HISTORY[c.event!]) as number) > 0,
  displays: () => (x, s) => (x.history[s] ? x.history[s].d : 0),
  signed_up: () => (x) => x.signedUp,
};

/** One condition; when disabled (an invalid regex), why, in words. */
function condition(c: C, neg: boolean, log: Log): Test | string {
  // The validator ignores keys a type does not use: there, a `days` or a `field` may be any JSON,
  // and converting an object whose "toString" key is no function throws. Such keys are left out.
  const label = [c.type.replace('_', ' '), c.field, c.key, c.scope, typeof c.days == 'number' && c.days && `in last ${c.days} days`, c.campaign, c.event].filter((s) => s && typeof s != 'object').join(' ');
  const get: Get = GET[c.type] ? GET[c.type](c) : (x) => x[c.type as 'device'];
  // Conditions without an operator test equality with a field of their own: visitor `is`, device
  // `in`, history that it happened (unless `negate`), signed_up `value`. An op, value, in or is key
  // on them is someone else's (unknown keys pass the validator) and must not change the test.
  const own = ({ visitor: 'is', device: 'in', history: 'negate', signed_up: 'value' } as Record<string, keyof C>)[c.type];
  let op = own ? 'equals' : c.op!;
  const value = own == 'negate' ? !c.negate : c[own || 'value'];
  const ci = c.ci || c.type == 'language' || c.type == 'country';
  if (op.startsWith('not_')) (op = op.slice(4)), (neg = !neg);
  const cmp = CMP[op];
  let test: (a: unknown, x: VisitorContext) => unknown;
  let req: string;
  if (op == 'exists') (test = (a) => a != null && a !== ''), (req = 'to exist');
  else if (cmp) {
    const n = value as number;
    // before, after, more/less_than_days_ago
    const date = op.length > 3;
    const ago = op.endsWith('ago');
    const at = toTime(value);
    // Property dates are usually strings: parse each distinct value once.
    let last: unknown;
    let t = NaN;
    test = (a, x) => {
      // A number, or text with a digit: +' ' is 0 and +true is 1, and neither is a number. No
      // object is (its conversion may throw).
      const d = (date ? (a === last ? t : (t = toTime((last = a)))) : typeof a != 'object' && /\d/.test(a as string) ? +(a as number) : NaN) - (ago ? x.now - n * Ms.DAY : date ? at : n);
      // NaN (missing, not a number, not a date) passes no operator.
      return d == d && (cmp[1] >> (Math.sign(d) + 1)) & 1;
    };
    req = `${cmp[0]} ${ago ? n + ' days ago' : q(value)}`;
  } else {
    let vals = ([] as unknown[]).concat(value);
    // The hash is compared without its '#', whichever way the owner wrote it.
    if (c.field === 'hash') vals = vals.map((v) => String(v).replace(/^#/, ''));
    const [words, pre, post] = STR[op] || STR.equals;
    // One regex per condition, compiled now: any of the values, each literal text but for `matches`.
    let re: RegExp;
    try {
      re = new RegExp(vals.map((v) => '(?:' + (pre == null ? v : pre + String(v).replace(/[$()*+.?[\\\]^{|}]/g, '\\$&') + post) + ')').join('|'), ci ? 'i' : '');
    } catch (e) {
      const off = label + ': invalid regex, condition disabled';
      log(`${off}: ${q(value)} (${e})`);
      return off;
    }
    // A property that is an object (or an array, in a hand-edited cookie) is no text to match.
    test = (s) => s != null && typeof s != 'object' && re.test(s as string);
    req = words + vals.map(q).join(' or ');
  }
  return (x, s) => {
    const v = get(x, s);
    if (!test(v, x) != neg) return `${label} is ${q(v)}, needs ${neg ? 'not ' : ''}${req}`;
  };
}

/**
 * Compiles a rule: a test, or undefined for no constraint (an empty group). A disabled condition (a bad
 * regex) is left out of its group: it neither blocks an `all` nor passes an `any`. A group left
 * with nothing but disabled conditions, or a rule that is one, fails with the first one's reason,
 * negated or not: a broken condition must not show the campaign to everyone.
 */
// The rule goes in an `all` of its own, so a lone disabled condition is such a group.
export const compileRule = (r: Rule, log: Log): Test | undefined => rule({ all: [r] }, log) as Test | undefined;

/** A rule, `neg`ated or not; a string when it is a disabled condition (why). */
function rule(r: Rule, log: Log, neg = false): Test | string | undefined {
  // `not`, then `all`, then `any`: the validator's order (it refuses a rule with two of them).
  if ('not' in r) return rule(r.not, log, !neg);
  // A list, when the key is there (the validator's `A`).
  const group = (r as { all?: Rule[] }).all || (r as { any?: Rule[] }).any;
  if (!group) return condition(r as Condition as unknown as C, neg, log);
  const all = group.map((k) => rule(k, log, neg));
  // Tests, not the strings of disabled conditions (which have no call).
  const kids = all.filter((t) => t && (t as Test).call) as Test[];
  // Without kids, anything left is a disabled condition.
  const off = all.find((t) => t) as string;
  // A negated `all` is an `any` of negated children, and the reverse.
  const any = 'any' in r != neg;
  return kids.length
    ? (x, s) => {
        let w = '';
        for (const k of kids) {
          const r = k(x, s);
          // `all` stops at the first failure, `any` at the first match.
          if (!r == any) return r;
          if (r) w += (w && '; or ') + r;
        }
        if (any) return 'none matched: ' + w;
      }
    : off && (() => off);
}
