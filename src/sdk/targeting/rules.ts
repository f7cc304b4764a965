// Compiles a targeting tree into one closure, once per campaign set. The closure returns
// undefined when the visitor matches, else the first failing condition in plain words.
// `not` is pushed down to the leaves (De Morgan), so every leaf knows how to explain itself.
import type { Condition, Rule } from '../../shared/campaign-targeting';
import { toTime } from '../../shared/campaign-targeting';
import type { VisitorContext } from '../context/types';

/** undefined = matches; a string = why not. */
export type Test = (x: VisitorContext, self: number) => string | undefined;
type Log = (line: string) => void;
type Get = (x: VisitorContext, self: number) => unknown;

const DAY = 864e5;
const NUM: Record<string, [string, (a: number, b: number) => boolean]> = {
  eq: ['=', (a, b) => a == b],
  ne: ['≠', (a, b) => a != b],
  gt: ['>', (a, b) => a > b],
  gte: ['≥', (a, b) => a >= b],
  lt: ['<', (a, b) => a < b],
  lte: ['≤', (a, b) => a <= b],
};
type StrTest = (a: string, v: string, re?: RegExp) => boolean;
const STR: Record<string, [string, StrTest]> = {
  equals: ['', (a, v) => a == v],
  in: ['one of ', (a, v) => a == v],
  contains: ['containing ', (a, v) => a.includes(v)],
  starts_with: ['starting with ', (a, v) => a.startsWith(v)],
  ends_with: ['ending with ', (a, v) => a.endsWith(v)],
  matches: ['matching ', (a, _v, re) => re!.test(a)],
};

const q = (v: unknown): string => (v == null || v === '' ? 'missing' : typeof v == 'string' ? `'${v}'` : Array.isArray(v) ? v.map(q).join(', ') : String(v));
const nonEmpty = (s: string): string | undefined => s || undefined;
const host = (u: string): string | undefined => nonEmpty((/^[a-z][\w+.-]*:\/\/(?:[^@/?#]*@)?([^:/?#]*)/i.exec(u)?.[1] ?? '').toLowerCase().replace(/^www\./, ''));

/** Getter of a custom property by exact key, else by dot path into nested objects. */
export function prop(key: string): (o: Record<string, unknown>) => unknown {
  const path = key.split('.');
  return (o) => {
    if (key in o) return o[key];
    let v: unknown = o;
    for (const k of path) v = v != null && typeof v == 'object' ? (v as Record<string, unknown>)[k] : undefined;
    return v;
  };
}

const PAGE: Record<string, [string, Get]> = {
  url: ['url', (x) => x.url],
  path: ['path', (x) => x.path],
  hash: ['hash', (x) => nonEmpty(x.hash.replace(/^#/, ''))],
  landing: ['landing page', (x) => x.session.landing],
  referrer: ['referrer', (x) => nonEmpty(x.session.referrer)],
  referrer_domain: ['referrer domain', (x) => host(x.session.referrer)],
};

/** A leaf: label, value getter, test of the value, requirement in words. */
function leaf(label: string, get: Get, test: (v: unknown, x: VisitorContext) => boolean, req: string, neg: boolean): Test {
  return (x, s) => {
    const v = get(x, s);
    return test(v, x) != neg ? undefined : `${label} is ${q(v)}, needs ${neg ? 'not ' : ''}${req}`;
  };
}

/** String operators over one value or a list (any match); arrays of actual values match if any element does. */
function strLeaf(c: Condition & { op: string; value?: string | string[]; ci?: boolean }, label: string, get: Get, neg: boolean, log: Log, ci?: boolean): Test | null {
  let op = c.op;
  if (op.startsWith('not_')) (op = op.slice(4)), (neg = !neg);
  if (op == 'exists') return leaf(label, get, (v) => v != null && v !== '', 'to exist', neg);
  ci ||= c.ci;
  const vals = ([] as string[]).concat(c.value as string);
  const lc = (s: string) => (ci ? s.toLowerCase() : s);
  const [word, f] = STR[op];
  let re: RegExp[] = [];
  if (op == 'matches') {
    try {
      re = vals.map((v) => new RegExp(v, ci ? 'i' : ''));
    } catch (e) {
      log(`${label}: invalid regex ${q(c.value)} (${(e as Error).message}): condition disabled`);
      return null;
    }
  }
  const vs = re.length ? vals : vals.map(lc);
  const one = (a: unknown): boolean => {
    if (a == null || typeof a == 'object') return false;
    const s = re.length ? String(a) : lc(String(a));
    return vs.some((v, i) => f(s, v, re[i]));
  };
  return leaf(label, get, (a) => (Array.isArray(a) ? a.some(one) : one(a)), word + vals.map(q).join(' or '), neg);
}

function numLeaf(c: { op: string; value?: number }, label: string, get: Get, neg: boolean): Test {
  const [sym, f] = NUM[c.op];
  const n = c.value as number;
  return leaf(label, get, (a) => a !== '' && a != null && isFinite(a as number) && f(+(a as number), n), `${sym} ${n}`, neg);
}

function existsLeaf(op: string, label: string, get: Get, neg: boolean): Test | undefined {
  if (op.endsWith('exists')) return leaf(label, get, (v) => v != null && v !== '', 'to exist', neg != (op == 'not_exists'));
}

function condition(c: Condition, neg: boolean, log: Log): Test | null {
  switch (c.type) {
    case 'page': {
      const [label, get]: [string, Get] = c.field == 'query' ? [`query parameter '${c.key}'`, (x) => x.query[c.key!]] : PAGE[c.field];
      // The hash is compared without its '#', whichever way the owner wrote it.
      const h = c.field == 'hash' && c.value ? { ...c, value: ([] as string[]).concat(c.value).map((v) => v.replace(/^#/, '')) } : c;
      return strLeaf(h, label, get, neg, log);
    }
    case 'utm':
      return strLeaf(c, c.field, (x) => x.session.utm[c.field], neg, log);
    case 'language':
      return strLeaf(c, 'browser language', (x) => x.language, neg, log, true);
    case 'visitor':
      return leaf('visitor', (x) => (x.visits.length > 1 ? 'returning' : 'new'), (v) => v == c.is, c.is, neg);
    case 'visits': {
      const d = c.days;
      return numLeaf(c, d ? `visits in last ${d} days` : 'visits', (x) => {
        let n = 0;
        for (const t of x.visits) if (!d || t > x.now - d * DAY) n++;
        return n;
      }, neg);
    }
    case 'pageviews':
      return numLeaf(c, `pageviews ${c.scope == 'total' ? 'in total' : 'this session'}`, (x) => (c.scope == 'total' ? x.totalPageviews : x.session.pageviews), neg);
    case 'time':
      return c.scope == 'on_site'
        ? numLeaf(c, 'seconds on site', (x) => Math.floor((x.now - x.session.start) / 1000), neg)
        : numLeaf(c, 'seconds since first visit', (x) => Math.floor((x.now - x.firstVisit) / 1000), neg);
    case 'property': {
      const label = `property '${c.key}'`;
      const p = prop(c.key);
      const get: Get = (x) => p(x.props);
      const e = existsLeaf(c.op, label, get, neg);
      if (e) return e;
      if (c.kind == 'string') return strLeaf(c, label, get, neg, log);
      if (c.kind == 'number') return numLeaf(c, label, get, neg);
      if (c.kind == 'boolean') return leaf(label, get, (v) => String(v) == String(c.value), String(c.value), neg);
      const op = c.op;
      const n = c.value as number;
      if (op.endsWith('ago')) {
        const more = op[0] == 'm';
        // Property dates are usually strings: parse each distinct value once.
        let lv: unknown;
        let lt = NaN;
        return leaf(label, get, (v, x) => {
          const t = v === lv ? lt : ((lv = v), (lt = toTime(v)));
          return more ? t < x.now - n * DAY : t > x.now - n * DAY;
        }, `${more ? 'more' : 'less'} than ${n} days ago`, neg);
      }
      const at = toTime(c.value);
      return leaf(label, get, (v) => (op == 'before' ? toTime(v) < at : toTime(v) > at), `${op} ${new Date(at).toISOString()}`, neg);
    }
    case 'device':
      return leaf('device', (x) => x.device, (v) => c.in.includes(v as 'mobile'), c.in.join(' or '), neg);
    case 'country': {
      const vs = c.value.map((v) => v.toUpperCase());
      return leaf('country', (x) => x.country, (v) => vs.includes(v as string) != (c.op == 'not_in'), (c.op == 'in' ? '' : 'not ') + 'one of ' + vs.join(', '), neg);
    }
    case 'history': {
      const k = ({ seen: 'd', closed: 'c', converted: 'v', clicked: 'k' } as const)[c.event];
      return leaf(`campaign ${c.campaign} ${c.event}`, (x) => ((x.history[c.campaign]?.[k] ?? 0) > 0 ? 'yes' : 'no'), (v) => (v == 'yes') != !!c.negate, c.negate ? 'no' : 'yes', neg);
    }
    case 'displays':
      return numLeaf(c, 'displays of this campaign', (x, s) => x.history[s]?.d ?? 0, neg);
    case 'signed_up':
      return leaf('signed up', (x) => (x.signedUp ? 'yes' : 'no'), (v) => (v == 'yes') == c.value, c.value ? 'yes' : 'no', neg);
  }
}

/**
 * Compiles a rule. null = no constraint (an empty group, or a disabled condition such as a bad
 * regex): it neither passes an `any` group on its own nor blocks an `all` group.
 */
export function compileRule(r: Rule, log: Log, neg = false): Test | null {
  if ('not' in r) return compileRule(r.not, log, !neg);
  const all = 'all' in r;
  if (!all && !('any' in r)) return condition(r, neg, log);
  const kids = (all ? r.all : r.any).map((k) => compileRule(k, log, neg)).filter((t): t is Test => !!t);
  if (!kids.length) return null;
  // A negated `all` is an `any` of negated children, and the reverse.
  return all != neg
    ? (x, s) => {
        for (const k of kids) {
          const w = k(x, s);
          if (w) return w;
        }
      }
    : (x, s) => {
        let w = '';
        for (const k of kids) {
          const r = k(x, s);
          if (!r) return;
          w += (w ? '; or ' : '') + r;
        }
        return 'none matched: ' + w;
      };
}
