// The campaign's shape as data (everything but content), and the small interpreter that checks a
// campaign against it. Ships in the browser core, so the schema is compact strings, not code.
//
// A spec is space-separated `key:type` fields, checked in order; the first bad one is reported as
// "path: required" (absent) or "path: bad value". A trailing `?` makes a field optional;
// `a|b|c` is one of those strings; any other type is a name in TYPES (legend there).
// Unknown extra keys are ignored (forward compatible). Regex syntax is not checked here: a bad
// regex disables only its condition (see targeting).
import { toTime } from './campaign-targeting';

type O = Record<string, unknown>;
/** null/undefined when valid, else "path: message". */
export type Err = string | null | undefined;
/** true = valid, a string = the error of a nested field, anything else = bad value. */
type Type = (v: unknown, x: O, p: string, q: string) => unknown;

export const isObj = (x: unknown): x is O => typeof x == 'object' && x !== null && !Array.isArray(x);
export const bad = (p: string, v: unknown): string => p + (v === undefined ? ': required' : ': bad value');

/** The first truthy result of `f` over the list. */
const first = <T>(l: T[], f: (x: T, i: number) => Err): Err => {
  let e: Err;
  l.some((x, i) => (e = f(x, i)));
  return e;
};

/** Checks the fields of object `x` (at path `p`, '' at the top) against `spec`. */
export const fields = (x: O, spec: string, p: string): Err =>
  first(spec.split(' '), (f) => {
    if (!f) return;
    let [k, t] = f.split(':');
    const v = x[k];
    const o = t.slice(-1) == '?';
    if (o && v === undefined) return;
    if (o) t = t.slice(0, -1);
    const q = p ? p + '.' + k : k;
    const r = t.includes('|') ? t.split('|').includes(v as string) : TYPES[t](v, x, q, p);
    return r === true ? null : typeof r == 'string' ? r : bad(q, v);
  });

/** A nested object with its own spec. */
const obj = (spec: string): Type => (v, _x, p) => (isObj(v) ? fields(v, spec, p) || true : false);
/** A discriminator: its value picks the spec the rest of the same object must meet. */
const by = (specs: Record<string, string>): Type => (v, x, _p, q) =>
  typeof specs[v as string] == 'string' && (fields(x, specs[v as string], q) || true);
const list = (v: unknown, each: (x: unknown, i: number) => unknown): boolean => Array.isArray(v) && v.length > 0 && v.every(each);
const num = (v: unknown, min: number, max = 1 / 0): boolean => typeof v == 'number' && isFinite(v) && v >= min && v <= max;
const str = (v: unknown): boolean => typeof v == 'string' && /\S/.test(v);
const NUM_OPS = 'eq|ne|gt|gte|lt|lte';
// Each string operator and its `not_` negation.
const STR_OPS = 'equals|contains|starts_with|ends_with|matches|in|exists'.replace(/\w+/g, '$&|not_$&');

/** A targeting tree: `all` / `any` / `not` over conditions. */
const rule = (x: unknown, p: string): Err => {
  if (!isObj(x)) return bad(p, x);
  const g = 'all' in x ? 'all' : 'any' in x ? 'any' : '';
  const l = x[g];
  return g
    ? Array.isArray(l) ? first(l, (r, i) => rule(r, `${p}.${g}[${i}]`)) : bad(p + '.' + g, l)
    : 'not' in x ? rule(x.not, p + '.not') : fields(x, 'type:condition', p);
};

// Type legend: s non-empty string, t any string, b boolean, N any number, n number >= 0,
// c count >= 1, % 0–100, i positive integer, D date (ISO string or epoch), d ISO date string.
const TYPES: Record<string, Type> = {
  s: str,
  t: (v) => typeof v == 'string',
  b: (v) => typeof v == 'boolean',
  N: (v) => num(v, -1 / 0),
  n: (v) => num(v, 0),
  c: (v) => num(v, 1),
  '%': (v) => num(v, 0, 100),
  i: (v) => Number.isInteger(v) && (v as number) > 0,
  D: (v) => (typeof v == 'string' || typeof v == 'number') && !isNaN(toTime(v)),
  d: (v) => typeof v == 'string' && !isNaN(Date.parse(v)),
  // The value a condition's operator needs: none for exists, else by property kind and operator.
  value: (v, x) => {
    const op = x.op as string;
    const k = x.kind;
    return /exists/.test(op) || TYPES[
      k == 'number' ? 'N' : k == 'boolean' ? 'b' : k == 'date' ? (/ago/.test(op) ? 'n' : 'D') : /in$/.test(op) ? 'strings' : 'text'
    ](v, x, '', '');
  },
  strings: (v) => list(v, str),
  text: (v) => str(v) || list(v, str),
  queryKey: (v, x) => x.field != 'query' || str(v),
  devices: (v) => list(v, (d) => /^(mobile|tablet|desktop)$/.test(d as string)),
  days: (v) => Array.isArray(v) && v.every((d) => Number.isInteger(d) && num(d, 0, 6)),
  hours: (v) => Array.isArray(v) && v.length == 2 && v.every((h) => num(h, 0, 24)),
  rule: (v, _x, p) => rule(v, p) || true,
  condition: by({
    page: `field:url|path|query|hash|landing|referrer|referrer_domain key:queryKey op:${STR_OPS} value:value ci:b?`,
    utm: `field:utm_source|utm_medium|utm_campaign|utm_term|utm_content op:${STR_OPS} value:value ci:b?`,
    visitor: 'is:new|returning',
    visits: `op:${NUM_OPS} value:N days:n?`,
    pageviews: `scope:session|total op:${NUM_OPS} value:N`,
    time: `scope:since_first_visit|on_site op:${NUM_OPS} value:N`,
    property: 'key:s kind:kind',
    device: 'in:devices',
    language: `op:${STR_OPS} value:value ci:b?`,
    country: 'op:in|not_in value:strings',
    history: 'campaign:i event:seen|closed|converted|clicked negate:b?',
    displays: `op:${NUM_OPS} value:N`,
    signed_up: 'value:b',
  }),
  kind: by({
    string: `op:${STR_OPS} value:value ci:b?`,
    number: `op:${NUM_OPS}|exists|not_exists value:value`,
    boolean: 'op:is|exists|not_exists value:value',
    date: 'op:before|after|more_than_days_ago|less_than_days_ago|exists|not_exists value:value',
  }),
  schedule: obj('start:d? end:d? days:days? hours:hours?'),
  trigger: obj('type:triggerType'),
  triggerType: by({
    landing: 'delay:n?',
    scroll: 'percent:%',
    exit: 'mobile:b? oncePerSession:b?',
    inactivity: 'seconds:c',
    click: 'selector:s',
    event: 'name:s',
    pageviews: 'count:c scope:session|total?',
  }),
  frequency: obj('repeat:repeat? stopAfter:stopAfter?'),
  repeat: obj('every:every'),
  every: by({ page: '', session: '', never: '', days: 'n:c', minutes: 'n:c', pages: 'n:c' }),
  stopAfter: obj('close:b? signup:b? click:b? displays:c?'),
  // Ids are unique and never "control" (the control group's name); some weight must be above 0.
  variants: (v, _x, p) =>
    Array.isArray(v) && v.length > 0 &&
    (first(v, (o, i) => {
      const q = `${p}[${i}]`;
      return isObj(o) ? fields(o, 'id:s weight:n', q) || (o.id == 'control' || v.findIndex((w) => w.id == o.id) < i ? bad(q + '.id', o.id) : null) : bad(q, o);
    }) || v.some((o) => o.weight > 0)),
  layout: obj('type:layoutType'),
  layoutType: by({
    popup: '',
    fullscreen: '',
    bar: 'position:top|bottom push:b?',
    slidein: 'position:top-left|top-right|bottom-left|bottom-right',
    embed: 'selector:s',
  }),
};

/** The whole campaign but its content (the UI chunk checks content before drawing). */
export const checkCampaign = (x: unknown): Err =>
  isObj(x)
    ? fields(x, 'id:i name:t status:draft|live|paused priority:N? schedule:schedule? targeting:rule? trigger:trigger frequency:frequency? variants:variants? control:%? layout:layout', '')
    : bad('campaign', x);
