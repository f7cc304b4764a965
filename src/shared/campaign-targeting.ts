// Targeting half of the campaign schema: who sees a campaign, when it fires, how often.
// Plain JSON shapes; the validator for them lives at the bottom of this file.

/** String operators. The `not_` forms negate; `ci: true` compares case-insensitively. */
export type StringOp =
  | 'equals' | 'not_equals'
  | 'contains' | 'not_contains'
  | 'starts_with' | 'not_starts_with'
  | 'ends_with' | 'not_ends_with'
  | 'matches' | 'not_matches'
  | 'in' | 'not_in'
  | 'exists' | 'not_exists';

export type NumberOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte';

/** Date operators for custom properties and dates in general. */
export type DateOp = 'before' | 'after' | 'more_than_days_ago' | 'less_than_days_ago';

/** Page-level string sources. `query` needs `key` (the parameter name). */
export type PageField = 'url' | 'path' | 'query' | 'hash' | 'landing' | 'referrer' | 'referrer_domain';
export type UtmField = 'utm_source' | 'utm_medium' | 'utm_campaign' | 'utm_term' | 'utm_content';

export type Condition =
  | { type: 'page'; field: PageField; key?: string; op: StringOp; value?: string | string[]; ci?: boolean }
  | { type: 'utm'; field: UtmField; op: StringOp; value?: string | string[]; ci?: boolean }
  | { type: 'visitor'; is: 'new' | 'returning' }
  /** "came N times in the last D days", from the last-10 visit dates. */
  | { type: 'visits'; op: NumberOp; value: number; days?: number }
  | { type: 'pageviews'; scope: 'session' | 'total'; op: NumberOp; value: number }
  /** Seconds since the first visit, or on site in this session. */
  | { type: 'time'; scope: 'since_first_visit' | 'on_site'; op: NumberOp; value: number }
  /** Custom property by dot path. Which ops apply depends on `kind`. */
  | { type: 'property'; key: string; kind: 'string'; op: StringOp; value?: string | string[]; ci?: boolean }
  | { type: 'property'; key: string; kind: 'number'; op: NumberOp | 'exists' | 'not_exists'; value?: number }
  | { type: 'property'; key: string; kind: 'boolean'; op: 'is' | 'exists' | 'not_exists'; value?: boolean }
  | { type: 'property'; key: string; kind: 'date'; op: DateOp | 'exists' | 'not_exists'; value?: string | number }
  | { type: 'device'; in: Array<'mobile' | 'tablet' | 'desktop'> }
  | { type: 'language'; op: StringOp; value?: string | string[] }
  | { type: 'country'; op: 'in' | 'not_in'; value: string[] }
  | { type: 'history'; campaign: number; event: 'seen' | 'closed' | 'converted' | 'clicked'; negate?: boolean }
  /** Displays of this campaign so far. */
  | { type: 'displays'; op: NumberOp; value: number }
  | { type: 'signed_up'; value: boolean };

export type Rule = { all: Rule[] } | { any: Rule[] } | { not: Rule } | Condition;

export type Trigger =
  | { type: 'landing'; delay?: number /* seconds */ }
  | { type: 'scroll'; percent: number }
  /** Desktop: pointer leaves through the top. Mobile: fast upward scroll or tab switch back. */
  | { type: 'exit'; mobile?: boolean; oncePerSession?: boolean }
  | { type: 'inactivity'; seconds: number }
  | { type: 'click'; selector: string }
  | { type: 'event'; name: string }
  | { type: 'pageviews'; count: number; scope?: 'session' | 'total' };

export interface Frequency {
  /** When may it show again after a display. Default: 'session'. */
  repeat?:
    | { every: 'page' }
    | { every: 'session' }
    | { every: 'days' | 'minutes' | 'pages'; n: number }
    | { every: 'never' };
  /** Stop for good after any of these. Defaults: close and signup true. */
  stopAfter?: { close?: boolean; signup?: boolean; click?: boolean; displays?: number };
}

export interface Schedule {
  start?: string; // ISO date-time
  end?: string; // ISO date-time
  days?: number[]; // 0 = Sunday … 6 = Saturday, in the site's time zone
  hours?: [number, number]; // [from, to) hours 0–24 in the site's time zone
}

export interface Variant {
  id: string;
  weight: number;
}

// ---- Validator ------------------------------------------------------------------------------
// Each check returns null when valid, else "path: message" naming the first bad field. Terse on
// purpose: this ships in the browser core. Unknown extra keys are ignored (forward compatible).
// Regex syntax is NOT checked here: a bad regex disables only its condition (see targeting).

type O = Record<string, unknown>;
type Err = string | null;

const STR_OPS = 'equals contains starts_with ends_with matches in exists'.split(' ');
const NUM_OPS = 'eq ne gt gte lt lte'.split(' ');
const DATE_OPS = 'before after more_than_days_ago less_than_days_ago'.split(' ');
const EXISTS = ['exists', 'not_exists'];
const PAGE_FIELDS = 'url path query hash landing referrer referrer_domain'.split(' ');
const UTM_FIELDS = 'source medium campaign term content'.split(' ').map((f) => 'utm_' + f);
const DEVICES = ['mobile', 'tablet', 'desktop'];
const HISTORY = ['seen', 'closed', 'converted', 'clicked'];

const isObj = (x: unknown): x is O => typeof x == 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x == 'number' && isFinite(x);
const isStr = (x: unknown): x is string => typeof x == 'string';

/** Every string operator with its `not_` negation. */
export const STRING_OPS: string[] = STR_OPS.flatMap((o) => [o, 'not_' + o]);

/** "p: msg" */
export const fail = (p: string, m: string): string => `${p}: ${m}`;

/** `x[k]` is one of `list` (or absent when `optional`). */
export function oneOf(x: O, k: string, list: string[], p: string, noun = 'value', optional?: boolean): Err {
  const v = x[k];
  if (v === undefined && optional) return null;
  return list.includes(v as string) ? null : fail(p + '.' + k, v === undefined ? 'required' : `unknown ${noun} '${v}'`);
}

/** `x[k]` is a finite number >= min (or absent when `optional`). */
export function num(x: O, k: string, p: string, min = 0, optional?: boolean, max = Infinity): Err {
  const v = x[k];
  if (v === undefined && optional) return null;
  return isNum(v) && v >= min && v <= max ? null : fail(p + '.' + k, 'must be a number' + (max < Infinity ? ` from ${min} to ${max}` : min > -Infinity ? ' >= ' + min : ''));
}

const bool = (x: O, k: string, p: string, optional = true): Err =>
  (x[k] === undefined && optional) || typeof x[k] == 'boolean' ? null : fail(p + '.' + k, 'must be true or false');

const strList = (v: unknown): boolean => Array.isArray(v) && v.length > 0 && v.every(isStr);

/** A string operator and the value it needs. */
function strOp(x: O, p: string): Err {
  const op = x.op as string;
  return (
    oneOf(x, 'op', STRING_OPS, p, 'operator') ||
    (EXISTS.includes(op) ? null
      : op.endsWith('in') ? (strList(x.value) ? null : fail(p + '.value', 'must be a non-empty list of strings'))
      : isStr(x.value) || strList(x.value) ? null : fail(p + '.value', 'must be a string or a list of strings')) ||
    bool(x, 'ci', p)
  );
}

const numOp = (x: O, p: string): Err => oneOf(x, 'op', NUM_OPS, p, 'operator') || num(x, 'value', p, -Infinity);

function property(x: O, p: string): Err {
  const op = x.op as string;
  if (!isStr(x.key) || !x.key) return fail(p + '.key', 'must be a non-empty string');
  const e = oneOf(x, 'kind', ['string', 'number', 'boolean', 'date'], p, 'kind');
  if (e) return e;
  if (x.kind == 'string') return strOp(x, p);
  const ops = x.kind == 'number' ? NUM_OPS : x.kind == 'date' ? DATE_OPS : ['is'];
  return (
    oneOf(x, 'op', ops.concat(EXISTS), p, 'operator') ||
    (EXISTS.includes(op) ? null
      : x.kind == 'number' ? num(x, 'value', p, -Infinity)
      : x.kind == 'boolean' ? bool(x, 'value', p, false)
      : op.endsWith('ago') ? num(x, 'value', p)
      : isNaN(toTime(x.value)) ? fail(p + '.value', 'must be a date') : null)
  );
}

/** Epoch ms of a date given as ISO string or epoch number (below 1e11: seconds). NaN if not a date. */
export function toTime(v: unknown): number {
  return isNum(v) ? (v < 1e11 ? v * 1000 : v) : isStr(v) ? Date.parse(v) : v instanceof Date ? v.getTime() : NaN;
}

const CONDITIONS: Record<string, (x: O, p: string) => Err> = {
  page: (x, p) =>
    oneOf(x, 'field', PAGE_FIELDS, p, 'field') ||
    (x.field == 'query' && !(isStr(x.key) && x.key) ? fail(p + '.key', 'required for a query parameter') : strOp(x, p)),
  utm: (x, p) => oneOf(x, 'field', UTM_FIELDS, p, 'field') || strOp(x, p),
  visitor: (x, p) => oneOf(x, 'is', ['new', 'returning'], p),
  visits: (x, p) => numOp(x, p) || num(x, 'days', p, 0, true),
  pageviews: (x, p) => oneOf(x, 'scope', ['session', 'total'], p, 'scope') || numOp(x, p),
  time: (x, p) => oneOf(x, 'scope', ['since_first_visit', 'on_site'], p, 'scope') || numOp(x, p),
  property,
  device: (x, p) =>
    Array.isArray(x.in) && x.in.length && x.in.every((d) => DEVICES.includes(d)) ? null : fail(p + '.in', 'must list mobile, tablet or desktop'),
  language: strOp,
  country: (x, p) => oneOf(x, 'op', ['in', 'not_in'], p, 'operator') || (strList(x.value) ? null : fail(p + '.value', 'must be a non-empty list of country codes')),
  history: (x, p) => num(x, 'campaign', p) || oneOf(x, 'event', HISTORY, p, 'event') || bool(x, 'negate', p),
  displays: numOp,
  signed_up: (x, p) => bool(x, 'value', p, false),
};

/** A targeting tree: `all` / `any` / `not` over conditions. */
export function checkRule(x: unknown, p: string): Err {
  if (!isObj(x)) return fail(p, 'must be an object');
  for (const g of ['all', 'any']) {
    if (g in x) {
      const l = x[g];
      if (!Array.isArray(l)) return fail(p + '.' + g, 'must be a list');
      for (let i = 0; i < l.length; i++) {
        const e = checkRule(l[i], `${p}.${g}[${i}]`);
        if (e) return e;
      }
      return null;
    }
  }
  if ('not' in x) return checkRule(x.not, p + '.not');
  const c = CONDITIONS[x.type as string];
  return c ? c(x, p) : fail(p + '.type', `unknown condition type '${x.type}'`);
}

const TRIGGERS: Record<string, (x: O, p: string) => Err> = {
  landing: (x, p) => num(x, 'delay', p, 0, true),
  scroll: (x, p) => num(x, 'percent', p, 0, false, 100),
  exit: (x, p) => bool(x, 'mobile', p) || bool(x, 'oncePerSession', p),
  inactivity: (x, p) => num(x, 'seconds', p, 1),
  click: (x, p) => (isStr(x.selector) && x.selector ? null : fail(p + '.selector', 'must be a CSS selector')),
  event: (x, p) => (isStr(x.name) && x.name ? null : fail(p + '.name', 'must be an event name')),
  pageviews: (x, p) => num(x, 'count', p, 1) || oneOf(x, 'scope', ['session', 'total'], p, 'scope', true),
};

export function checkTrigger(x: unknown, p = 'trigger'): Err {
  if (!isObj(x)) return fail(p, 'must be an object');
  const t = TRIGGERS[x.type as string];
  return t ? t(x, p) : fail(p + '.type', `unknown trigger '${x.type}'`);
}

export function checkFrequency(x: unknown, p = 'frequency'): Err {
  if (!isObj(x)) return fail(p, 'must be an object');
  const r = x.repeat;
  const s = x.stopAfter;
  const rp = p + '.repeat';
  const sp = p + '.stopAfter';
  return (
    (r === undefined ? null
      : !isObj(r) ? fail(rp, 'must be an object')
      : oneOf(r, 'every', ['page', 'session', 'never', 'days', 'minutes', 'pages'], rp, 'repeat') ||
        (['days', 'minutes', 'pages'].includes(r.every as string) ? num(r, 'n', rp, 1) : null)) ||
    (s === undefined ? null
      : !isObj(s) ? fail(sp, 'must be an object')
      : bool(s, 'close', sp) || bool(s, 'signup', sp) || bool(s, 'click', sp) || num(s, 'displays', sp, 1, true))
  );
}

export function checkSchedule(x: unknown, p = 'schedule'): Err {
  if (!isObj(x)) return fail(p, 'must be an object');
  for (const k of ['start', 'end']) if (x[k] !== undefined && !(isStr(x[k]) && !isNaN(Date.parse(x[k] as string)))) return fail(p + '.' + k, 'must be an ISO date');
  const d = x.days;
  if (d !== undefined && !(Array.isArray(d) && d.every((n) => Number.isInteger(n) && n >= 0 && n < 7))) return fail(p + '.days', 'must list days 0 (Sunday) to 6');
  const h = x.hours;
  if (h !== undefined && !(Array.isArray(h) && h.length == 2 && h.every((n) => isNum(n) && n >= 0 && n <= 24))) return fail(p + '.hours', 'must be [from, to] hours 0–24');
  return null;
}

/** Variants (ids and weights only: their content is checked with the content) and control. */
export function checkVariants(v: unknown, control: unknown): Err {
  if (v !== undefined) {
    if (!Array.isArray(v) || !v.length) return fail('variants', 'must be a non-empty list');
    const seen: string[] = [];
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      const p = `variants[${i}]`;
      if (!isObj(x)) return fail(p, 'must be an object');
      if (!isStr(x.id) || !x.id || x.id == 'control' || seen.includes(x.id)) return fail(p + '.id', 'must be a unique non-empty string other than "control"');
      seen.push(x.id);
      const e = num(x, 'weight', p);
      if (e) return e;
    }
    if (!v.some((x) => x.weight > 0)) return fail('variants', 'needs a weight above 0');
  }
  return control === undefined || (isNum(control) && control >= 0 && control <= 100) ? null : fail('control', 'must be a number from 0 to 100');
}

export { isObj, isNum, isStr };
