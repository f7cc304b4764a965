// The campaign's shape as data (everything but content), and the small interpreter that checks a
// campaign against it. Ships in the browser core, so the schema is compact strings, not code.
//
// A spec is space-separated `key:type` fields, checked in order; the first bad one is reported as
// "path: required" (absent) or "path: bad value". Type prefixes: `?` optional, `*` non-empty list
// of. A type is a name in T (legend there) or else a regex the whole string must match ("a|b").
// Unknown extra keys are ignored (forward compatible). Regex syntax inside conditions is not
// checked here: a bad regex disables only its condition (see targeting).
import { ISO, toTime } from './campaign-targeting';

type O = Record<string, unknown>;
/** Falsy when valid, else "path: message". */
export type Err = string | false | null | undefined;
/**
 * A check (true = valid, a string = the error of a nested field, else bad value); a nested
 * object's spec; or a discriminator: the first regex key the value matches picks the spec the
 * rest of the same object must meet.
 */
// any: the value is JSON of unknown shape; each check tests its shape before using it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Type = ((v: any, x: O, p: string) => unknown) | string | Record<string, string>;

const isStr = (v: unknown): v is string => typeof v == 'string';
const isArr = Array.isArray;
const isInt = Number.isInteger;
export const isObj = (x: unknown): x is O => !!x && typeof x == 'object' && !isArr(x);
const bad = (p: string, v: unknown): string => p + (v === undefined ? ': required' : ': bad value');
const is = (re: string, v: unknown): boolean => isStr(v) && RegExp(`^(${re})$`).test(v);

/** The first truthy result of `f` over the list. */
const first = <X>(l: X[], f: (x: X, i: number) => Err): Err => {
  let e: Err;
  l.some((x, i) => (e = f(x, i)));
  return e;
};

/** Value `v` at path `p` against type `t`; `x` is the object holding it, at path `q`. */
const check = (v: unknown, t: string, p: string, x: O = {}, q = ''): Err => {
  if (t[0] == '?') {
    if (v === undefined) return;
    t = t.slice(1);
  }
  let d = T[t];
  const r =
    t[0] == '*' ? isArr(v) && v.length && v.every((e) => !check(e, t.slice(1), p))
    : typeof d == 'function' ? d(v, x, p)
    : isStr(d) ? isObj(v) && (fields(v, d, p) || true)
    : d ? isStr((d = d[Object.keys(d).find((k) => is(k, v)) as string])) && (fields(x, d, q) || true)
    : is(t, v);
  return r !== true && ((r as Err) || bad(p, v));
};

/** The fields of object `x` (at path `p`, '' at the top) against `spec`. */
const fields = (x: O, spec: string, p: string): Err =>
  spec &&
  first(spec.split(' '), (f) => {
    const [k, t] = f.split(':');
    return check(x[k], t, p ? p + '.' + k : k, x, p);
  });

const num = (v: unknown, min: number, max = 1 / 0): boolean => typeof v == 'number' && v >= min && v <= max;
const date = (v: unknown): boolean => !isNaN(toTime(v));
const EXISTS = '(not_)?exists';
const CMP = 'eq|ne|[gl]te?';

// Legend. s non-empty string, t any string, b boolean, N any number, n number >= 0, c count >= 1,
// % 0–100, i positive integer, d ISO date string, D date (ISO or epoch), l string or list of them.
// Shapes: r targeting rule, C condition, K property kind, S schedule, G trigger, F frequency,
// V variants, L layout; operators and their values: X string, M number, Y number property,
// B boolean, Z date. Other letters are parts of the shape above them.
// Read by key, and no two keys of a discriminator match one value: the entries, and a
// discriminator's, are in the order that gzips smallest in the core bundle.
const T: Record<string, Type> = {
  K: { string: 'op:X ci:?b', number: 'op:Y', boolean: 'op:B', date: 'op:Z' },
  t: isStr,
  b: (v) => typeof v == 'boolean',
  N: (v) => num(v, -1 / 0),
  H: (v) => isArr(v) && v.length == 2 && v.every((h) => num(h, 0, 24)),
  n: (v) => num(v, 0),
  c: (v) => num(v, 1),
  '%': (v) => num(v, 0, 100),
  i: (v) => isInt(v) && v > 0,
  w: (v) => isInt(v) && num(v, 0, 6),
  s: (v) => isStr(v) && /\S/.test(v),
  d: (v) => isStr(v) && ISO.test(v) && date(v),
  D: date,
  l: (v) => isStr(v) || !check(v, '*s', ''),
  // Ids are unique, non-blank, at most 64 characters (what analytics events carry as `g`) and never
  // "control" (the control group's name); some weight is above 0.
  V: (v, _x, p) =>
    isArr(v) && v.length &&
    (first(v, (o, i) => check(o, 'O', `${p}[${i}]`) || (v.findIndex((w) => w.id == o.id) < i && bad(`${p}[${i}].id`, o.id))) ||
      v.some((o) => o.weight > 0)),
  // A targeting tree: `all` / `any` / `not` over conditions. Empty groups are allowed. Group keys
  // are read in compileRule's order, and a second one is refused, as compileRule would drop it
  // (`?.^`: absent, as `.^` matches nothing).
  r: (x, _x, p) =>
    isObj(x) && (fields(x, 'not' in x ? 'not:r all:?.^ any:?.^' : 'all' in x ? 'all:A any:?.^' : 'any' in x ? 'any:A' : 'type:C', p) || true),
  A: (l, _x, p) => isArr(l) && (first(l, (r, i) => check(r, 'r', `${p}[${i}]`)) || true),
  M: { [CMP]: 'value:N' },
  X: { '(not_)?(equals|contains|starts_with|ends_with|matches)': 'value:l', '(not_)?in': 'value:*s', [EXISTS]: '' },
  Y: { [CMP]: 'value:N', [EXISTS]: '' },
  B: { is: 'value:b', [EXISTS]: '' },
  Z: { 'before|after': 'value:D', '(more|less)_than_days_ago': 'value:n', [EXISTS]: '' },
  S: 'start:?d end:?d days:?*w hours:?H',
  P: 'close:?b signup:?b click:?b displays:?c',
  G: 'type:g',
  g: {
    scroll: 'percent:%',
    landing: 'delay:?n',
    exit: 'mobile:?b oncePerSession:?b',
    click: 'selector:s',
    event: 'name:s',
    pageviews: 'count:c scope:?session|total',
    inactivity: 'seconds:c',
  },
  C: {
    page: 'field:W op:X ci:?b',
    visitor: 'is:new|returning',
    property: 'key:s kind:K',
    pageviews: 'scope:session|total op:M',
    displays: 'op:M',
    time: 'scope:since_first_visit|on_site op:M',
    device: 'in:*mobile|tablet|desktop',
    language: 'op:X ci:?b',
    country: 'op:(not_)?in value:*s',
    history: 'campaign:i event:seen|closed|converted|clicked negate:?b',
    visits: 'op:M days:?n',
    utm: 'field:utm_(source|medium|campaign|term|content) op:X ci:?b',
    signed_up: 'value:b',
  },
  W: { 'url|path|hash|landing|referrer(_domain)?': '', query: 'key:s' },
  F: 'repeat:?R stopAfter:?P',
  R: 'every:E',
  E: { 'page|session|never': '', 'days|minutes|pages': 'n:c' },
  O: 'id:(?!control$)(?=.{1,64}$).*\\S.* weight:n',
  L: 'type:Q',
  Q: { 'popup|fullscreen': '', bar: 'position:top|bottom push:?b', slidein: 'position:(top|bottom)-(left|right)', embed: 'selector:s' },
};

/** The whole campaign but its content (the UI chunk checks content before drawing). */
export const checkCampaign = (x: unknown): Err =>
  isObj(x)
    ? fields(x, 'id:i name:t status:draft|live|paused priority:?N schedule:?S targeting:?r trigger:G frequency:?F variants:?V control:?% layout:L', '')
    : bad('campaign', x);
