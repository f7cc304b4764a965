// Warnings for `campaign import`: what the validator lets through on purpose but that leaves a
// campaign silently not doing what its owner wrote. Never a refusal: unknown keys stay allowed
// (a newer campaign file must load in an older Poplet), and a campaign that will not show is
// still a valid one to store.
//
// Unknown keys are found by watching the validator itself. validateCampaign (src/shared/
// campaign.ts) reads, through the tables of src/shared/spec.ts and src/shared/campaign-content.ts
// and the few keys their code handles (rule groups, steps, success, style, messages, variants'
// content), every key that means something at each place of a campaign; on a valid campaign it
// reads them all (it stops only at an error). So a key it never read is one nothing uses. This
// needs no second list of keys, follows any change to the tables, and needs nothing exported from
// spec.ts, whose every byte ships in the browser core.
import { validateCampaign, type Campaign, type Content } from '../shared/campaign';
import { isField } from '../shared/campaign-content';
import { DEFAULT_MESSAGES } from '../sdk/render/form';
import { bound, zone } from '../sdk/targeting/schedule';
import { ISO } from '../shared/campaign-targeting';

type O = Record<string, unknown>;
const isObj = (x: unknown): x is O => typeof x === 'object' && x !== null && !Array.isArray(x);

/** `a.b`, `a[0]`, or `a["odd key"]` for a key that is not a plain name. */
const child = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;

interface Reads {
  /** Whether the campaign is valid: only then has the validator read every key that means something. */
  ok: boolean;
  /** Keys the validator read, per path of an object it reached. */
  keys: Map<string, Set<string>>;
  /** The objects it reached, by path (the campaign's own objects, not proxies). */
  objects: Map<string, O>;
}

/**
 * Runs the validator over `campaign` through proxies that note each key read (`x.k`, `'k' in x`,
 * and `for (k in x)` followed by `x[k]`) at its path.
 */
function validatorReads(campaign: unknown): Reads {
  const reads: Reads = { ok: false, keys: new Map(), objects: new Map() };
  const wrap = (value: unknown, path: string): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    const list = Array.isArray(value);
    if (!list) reads.objects.set(path, value as O);
    const note = (key: string | symbol) => {
      if (list || typeof key !== 'string') return;
      let set = reads.keys.get(path);
      if (!set) reads.keys.set(path, (set = new Set()));
      set.add(key);
    };
    return new Proxy(value, {
      get(target, key, receiver) {
        note(key);
        const v: unknown = Reflect.get(target, key, receiver);
        // Own entries only: array methods and `length` are not parts of the campaign.
        if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(target, key)) return v;
        return wrap(v, list ? child(path, Number(key)) : child(path, key));
      },
      has(target, key) {
        note(key);
        return Reflect.has(target, key);
      },
    });
  };
  reads.ok = validateCampaign(wrap(campaign, '')).ok;
  return reads;
}

/** Message texts the UI reads: the keys of its defaults (src/sdk/render/form.ts). */
const MESSAGE_KEYS = Object.keys(DEFAULT_MESSAGES);
/** `messages` objects: the validator reads every key of them (any string is valid), the UI only its own. */
const isMessages = (path: string) => /(^|\.)content\.messages$/.test(path);

/** Optimal string alignment distance (Levenshtein with adjacent swaps), case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/** The candidate `key` most likely meant: same letters in another case, or one or two typos in a longer name. */
function nearest(key: string, candidates: Iterable<string>): string | undefined {
  const limit = key.length <= 3 ? 0 : key.length <= 5 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    if (c === key) continue;
    const n = distance(key, c);
    if (n < bestDistance) (best = c), (bestDistance = n);
  }
  return best;
}

const isUnder = (path: string, parent: string) => parent === '' ? path !== '' : path.startsWith(parent + '.') || path.startsWith(parent + '[');
const depth = (path: string) => (path.match(/\.|\[/g) ?? []).length + (path ? 1 : 0);

/** A key as the validator spells it at `path`, if it reads it there (in any case). */
function readAt(reads: Reads, path: string, key: string): string | undefined {
  const set = reads.keys.get(path);
  if (!set) return undefined;
  if (set.has(key)) return key;
  return [...set].find((k) => k.toLowerCase() === key.toLowerCase());
}

/**
 * Whether the validator reads `key` in an object put at `place` (absent from the campaign): it
 * does only where an optional object holds such a key, as a required field ahead of it stops the
 * check first. The key as spelled there, or undefined.
 */
function probe(campaign: unknown, parent: string, place: string, key: string, value: unknown): string | undefined {
  const copy = JSON.parse(JSON.stringify(campaign)) as unknown;
  const at = validatorReads(copy).objects.get(parent);
  if (!at) return undefined;
  at[place] = { [key]: value };
  return readAt(validatorReads(copy), child(parent, place), key);
}

/** Probes per unknown key at most: each runs the validator twice. */
const PROBES = 40;

/** Where `key` (found unknown at `path`, with `value`) would mean something, as a path. */
function suggest(campaign: unknown, reads: Reads, path: string, key: string, value: unknown): string | undefined {
  // A typo of a key of this very object.
  const near = nearest(key, isMessages(path) ? MESSAGE_KEYS : reads.keys.get(path) ?? []);
  if (near) return child(path, near);
  // A key one or two levels below, in an object the campaign has or in one it leaves out (`style`
  // when it has none), the shallowest first; else a key of an object above, the nearest first.
  const paths = [...reads.objects.keys()].filter((p) => !isMessages(p));
  const below = paths.filter((p) => isUnder(p, path) && depth(p) - depth(path) <= 2).sort((a, b) => depth(a) - depth(b));
  const above = paths.filter((p) => isUnder(path, p)).sort((a, b) => depth(b) - depth(a));
  let probes = PROBES;
  const search = (parents: string[]): string | undefined => {
    let best: string | undefined;
    for (const p of parents) {
      const k = readAt(reads, p, key);
      if (k && (!best || depth(p) + 1 < depth(best))) best = child(p, k);
      if (best && depth(best) <= depth(p) + 2) continue;
      const object = reads.objects.get(p)!;
      for (const place of reads.keys.get(p) ?? []) {
        if (object[place] !== undefined || isMessages(child(p, place)) || probes-- <= 0) continue;
        const found = probe(campaign, p, place, key, value);
        if (found && (!best || depth(p) + 2 < depth(best))) best = child(child(p, place), found);
      }
    }
    return best;
  };
  return search([path, ...below]) ?? search(above);
}

export interface UnknownKey {
  /** Path of the key, e.g. `content.closeButton`. */
  path: string;
  /** Where it would mean something, e.g. `content.style.closeButton`. */
  suggestion?: string;
}

/**
 * Keys of a valid campaign that nothing reads (a typo, or a key at the wrong level), in the
 * campaign's order, each with a likely meant path when there is one. Not below an unknown key.
 * None for an invalid campaign: its validation error is what to fix first.
 */
export function unknownKeys(campaign: unknown): UnknownKey[] {
  const reads = validatorReads(campaign);
  const out: UnknownKey[] = [];
  if (!reads.ok) return out;
  const visit = (value: unknown, path: string): void => {
    if (Array.isArray(value)) return value.forEach((v, i) => visit(v, child(path, i)));
    if (!isObj(value) || reads.objects.get(path) !== value) return;
    const known = isMessages(path) ? new Set(MESSAGE_KEYS) : reads.keys.get(path) ?? new Set<string>();
    for (const [k, v] of Object.entries(value)) {
      if (!known.has(k)) {
        const suggestion = suggest(campaign, reads, path, k, v);
        out.push(suggestion ? { path: child(path, k), suggestion } : { path: child(path, k) });
      } else visit(v, child(path, k));
    }
  };
  visit(campaign, '');
  return out;
}

export interface LintContext {
  /** The site's IANA time zone: schedules without an offset are wall-clock times there. */
  timezone: string;
  /** The country header this command's configuration has (POPLET_COUNTRY_HEADER); null: none. */
  countryHeader: string | null;
  now?: number;
}

/** Every condition of a targeting rule, with its path. */
function conditions(rule: unknown, path: string): Array<[O, string]> {
  if (!isObj(rule)) return [];
  for (const k of ['all', 'any'])
    if (Array.isArray(rule[k])) return (rule[k] as unknown[]).flatMap((r, i) => conditions(r, `${path}.${k}[${i}]`));
  return 'not' in rule ? conditions(rule.not, `${path}.not`) : [[rule, path]];
}

/** How a quantifier at `i` repeats: 0 not one, 1 a bounded few times, 2 without bound (or 10 times and more). */
function repeats(src: string, i: number): number {
  const c = src[i];
  if (c === '*' || c === '+') return 2;
  if (c === '?') return 1;
  const m = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i)) : null;
  return !m ? 0 : m[2] === undefined ? (+m[1]! > 1 ? 1 : 0) : m[3] === '' || +m[3]! >= 10 ? 2 : 1;
}

/**
 * Whether a pattern repeats without bound a group that itself holds a repeat without bound
 * (`(a+)+`, `(\w+\s?)*`, `(?:[a-z]+\.)+`): on a string that nearly matches, the engine tries
 * every way of splitting it between the two, which takes seconds for a URL of some 30 characters.
 * The common shape of catastrophic backtracking; overlapping alternatives (`(a|a)*`) are not found.
 */
export function nestedRepeat(src: string): boolean {
  // Per open group: whether it holds a repeat without bound so far.
  const open = [false];
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === '[') {
      for (i++; i < src.length && src[i] !== ']'; i++) if (src[i] === '\\') i++;
    } else if (c === '(') open.push(false);
    else if (c === ')' && open.length > 1) {
      const inner = open.pop()!;
      const outer = repeats(src, i + 1);
      if (inner && outer === 2) return true;
      if (inner || outer === 2) open[open.length - 1] = true;
    } else if (repeats(src, i) === 2) open[open.length - 1] = true;
  }
  return false;
}

/**
 * Date conditions' `before`/`after` values the browsers read apart. The validator takes any date
 * Date.parse reads, and V8 reads forms others do not ("2025-06-01 10:00" is no date in Safari, so
 * there the condition never matches). A date and time with no offset is read in each visitor's own
 * zone, not the site's as a schedule is.
 */
function dateWarnings(rule: unknown): string[] {
  return conditions(rule, 'targeting').flatMap(([c, path]) => {
    const v = c.value;
    if (c.kind !== 'date' || (c.op !== 'before' && c.op !== 'after') || typeof v !== 'string') return [];
    const m = ISO.exec(v);
    if (!m)
      return [`${path} date "${v}" is not an ISO date: browsers read other forms differently, some not at all (then the condition never matches): write it as 2025-06-01 or 2025-06-01T10:00:00Z`];
    return m[1] && !m[4] ? [`${path} date "${v}" has no UTC offset: each visitor's browser reads it in the visitor's own time zone: write it with one ("…Z" or "…+01:00")`] : [];
  });
}

/**
 * What is wrong with the patterns of `matches` conditions, which the validator does not compile:
 * a pattern V8 (Chromium's engine) refuses turns its condition off in the browser; several patterns
 * are compiled as one regex (src/sdk/targeting/rules.ts joins them as `(?:a)|(?:b)`), where a
 * backreference counts the groups of all of them and a group name may not come twice; and a
 * nested repeat can freeze the page.
 */
function regexWarnings(rule: unknown): string[] {
  return conditions(rule, 'targeting').flatMap(([c, path]) => {
    if (typeof c.op !== 'string' || !c.op.endsWith('matches')) return [];
    const values = ([] as unknown[]).concat(c.value).filter((v): v is string => typeof v === 'string');
    const flags = c.ci || c.type === 'language' ? 'i' : '';
    const out: string[] = [];
    for (const v of values) {
      try {
        RegExp(v, flags);
      } catch (e) {
        out.push(`${path} pattern ${JSON.stringify(v)} is not a valid regex (${(e as Error).message}): browsers turn this condition off`);
        continue;
      }
      if (nestedRepeat(v))
        out.push(
          `${path} pattern ${JSON.stringify(v)} repeats a group that repeats itself: on a URL that nearly matches it can take ` +
            'seconds and freeze the page (catastrophic backtracking); repeat one of the two only',
        );
    }
    if (values.length > 1 && !out.some((w) => w.includes('not a valid regex'))) {
      let joined = true;
      try {
        RegExp(values.map((v) => `(?:${v})`).join('|'), flags);
      } catch {
        joined = false;
      }
      if (!joined || values.some((v) => /\\([1-9]|k<)/.test(v)))
        out.push(
          `${path} has ${values.length} patterns, compiled as one regex, ` +
            (joined ? 'where a backreference counts the groups of all of them' : 'which some browsers refuse (a group name used twice?)') +
            ': put each pattern in a condition of its own, in an `any` group',
        );
    }
    return out;
  });
}

/** Every step of a content with its path, `success` last. */
const stepsOf = (content: Content, path: string) => [
  ...content.steps.map((s, i) => [s, `${path}.steps[${i}]`] as const),
  [content.success, `${path}.success`] as const,
];

/**
 * Field names the form gives another meaning (the validator, run in every browser too, takes them:
 * refusing them there would hide campaigns stored before). `email` on a field other than the
 * email block, when that block has a name of its own: both fill the sign-up's address, the last
 * one in the form wins. `pl_hp`: the spam trap's name; the form then finds two elements and reads
 * an empty value from both (not for a hidden field: it draws no element, and is read at submit).
 */
function clashingNames(content: Content, path: string): string[] {
  const steps = stepsOf(content, path);
  const named = steps.some(([s]) => s.blocks.some((b) => b.type === 'email' && b.name && b.name !== 'email'));
  return steps.flatMap(([s, p]) =>
    s.blocks.flatMap((b, i) => {
      if (!isField(b)) return [];
      const where = `${p}.blocks[${i}].name "${b.name}"`;
      if (b.name === 'pl_hp' && b.type !== 'hidden') return [`${where} is the name of the form's spam trap: the form then reads neither (the field's value is never sent, a required one can never be filled in): rename it`];
      if (b.name === 'email' && b.type !== 'email' && named) return [`${where} is the sign-up's address, which the email block (with a name of its own) fills too: one replaces the other: rename it`];
      return [];
    }),
  );
}

/**
 * Steps of a full screen that a visitor on a touch screen cannot leave: the campaign draws no close
 * button (`style.closeButton: "none"`) and no "Don't show popups again" link (`noshowLink: false`),
 * and the step has no `close` button. Esc and Android's back button close it; an iPhone or iPad
 * has neither, and a full screen has no overlay to tap. Paths of those steps, `content.success`
 * included (a visitor who signed up is stuck there too).
 */
function trappedSteps(content: Content, path: string): string[] {
  if (content.style?.closeButton !== 'none' || content.noshowLink !== false) return [];
  return stepsOf(content, path).filter(([s]) => !s.blocks.some((b) => b.type === 'button' && b.action === 'close')).map(([, p]) => p);
}

/**
 * ISO dates anywhere in a campaign (schedule bounds, date conditions, countdowns) whose day is not
 * one of the calendar: the validator lets 2025-02-30 through, as V8's Date.parse reads it (as
 * 2 March), but the format's rules make it invalid, and a browser that follows them refuses it.
 */
function impossibleDays(value: unknown, path: string): string[] {
  if (typeof value === 'string') {
    const m = /^(\d{4})-(\d\d)-(\d\d)(?:T|$)/.exec(value);
    if (!m || new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!)).getUTCDate() === +m[3]!) return [];
    return [`${path} "${value}" is not a day of the calendar (Chromium reads it as ${new Date(Date.parse(value.slice(0, 10))).toISOString().slice(0, 10)}; other browsers may refuse the campaign)`];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => impossibleDays(v, child(path, i)));
  return isObj(value) ? Object.keys(value).flatMap((k) => impossibleDays(value[k], child(path, k))) : [];
}

/**
 * Countdowns whose end has no UTC offset. The browser reads a date and time without one in each
 * visitor's own zone (an offer "ending at midnight" ends 24 times around the world) and a bare date
 * as midnight UTC; a campaign schedule, by contrast, is read in the site's zone.
 */
function localCountdowns(content: Content, path: string): string[] {
  return stepsOf(content, path).flatMap(([s, p]) =>
    s.blocks.flatMap((b, i) =>
      b.type !== 'countdown' || /(Z|[+-]\d\d:?\d\d)$/i.test(b.until)
        ? []
        : [
            `${p}.blocks[${i}] countdown until "${b.until}" has no UTC offset: it is read as ` +
              (b.until.includes('T') ? "each visitor's local time" : 'midnight UTC') +
              `, not in the site's time zone: write it with one ("…Z" or "…+01:00")`,
          ],
    ),
  );
}

/** sRGB channels (0–255) of an opaque colour written as hex, rgb()/rgba() or white/black; null for anything else (a variable, a name, a colour seen through). */
function opaqueRgb(css: string): number[] | null {
  const v = css.trim().toLowerCase();
  const named: Record<string, string> = { white: '#fff', black: '#000' };
  const hex = /^#([\da-f]{3,4}|[\da-f]{6}|[\da-f]{8})$/.exec(named[v] ?? v);
  if (hex) {
    const h = hex[1]!.length < 5 ? [...hex[1]!].map((c) => c + c).join('') : hex[1]!;
    const [r, g, b, a] = [0, 2, 4, 6].map((i) => parseInt(h.slice(i, i + 2) || 'ff', 16));
    return a === 255 ? [r!, g!, b!] : null;
  }
  const fn = /^rgba?\(\s*([\d.]+%?)[\s,]+([\d.]+%?)[\s,]+([\d.]+%?)\s*(?:[,/]\s*([\d.]+%?)\s*)?\)$/.exec(v);
  if (!fn) return null;
  const num = (x: string, max: number) => Math.min(max, x.endsWith('%') ? (parseFloat(x) / 100) * max : parseFloat(x));
  if (fn[4] !== undefined && num(fn[4], 1) < 1) return null;
  return [fn[1]!, fn[2]!, fn[3]!].map((x) => num(x, 255));
}

/** The colours the UI chunk draws where `content.style` sets none (its stylesheet's `var(--pl-…, default)`). */
export const DEFAULT_COLOURS = { color: '#1a1a1a', background: '#fff', accentText: '#fff', accent: '#1f4fd1' };

/** WCAG 2 contrast ratio of two opaque colours. */
export function contrast(a: number[], b: number[]): number {
  const lum = (c: number[]) =>
    c.map((x) => ((x /= 255) <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4)).reduce((s, x, i) => s + x * [0.2126, 0.7152, 0.0722][i]!, 0);
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/**
 * Text colours of `content.style` that WCAG AA's 4.5:1 finds too close to what they are drawn on:
 * the text (`color`) on the box (`background`), the buttons' label (`accentText`) on `accent`.
 * A pair is checked when the campaign sets either of its colours, the other one being the
 * default; colours this cannot read (variables, most names, any with transparency) are skipped.
 * The UI draws what it is given: a `color` equal to its `background` makes the text invisible.
 */
function lowContrast(content: Content, path: string): string[] {
  const style = content.style ?? {};
  const d = DEFAULT_COLOURS;
  const pairs = [
    ['color', d.color, 'background', d.background, 'text'],
    ['accentText', d.accentText, 'accent', d.accent, 'button labels'],
  ] as const;
  return pairs.flatMap(([fg, fgDefault, bg, bgDefault, what]) => {
    if (style[fg] === undefined && style[bg] === undefined) return [];
    const [f, b] = [opaqueRgb(style[fg] ?? fgDefault), opaqueRgb(style[bg] ?? bgDefault)];
    if (!f || !b) return [];
    const ratio = contrast(f, b);
    if (ratio >= 4.5) return [];
    const said = (key: typeof fg | typeof bg, fallback: string) => (style[key] === undefined ? `the default ${key} ${fallback}` : `${key} ${JSON.stringify(style[key])}`);
    return [
      `${path}.style ${what}: ${said(fg, fgDefault)} on ${said(bg, bgDefault)} has a contrast of ${Math.floor(ratio * 100) / 100}:1, ` +
        'under the 4.5:1 that WCAG AA asks of text: visitors may not be able to read it',
    ];
  });
}

/**
 * What to tell the owner about a campaign just validated: `campaign 12: …` lines. Unknown keys and
 * full screens with no way out on touch screens for every campaign; for live ones, reasons it cannot show that need no visitor to know (a schedule
 * over, or never open, every visitor held back) and a country condition while this configuration
 * has no country header (the CLI may run with another environment than the server: said so).
 */
export function campaignWarnings(c: Campaign, ctx: LintContext): string[] {
  const name = `campaign ${c.id}`;
  const out = unknownKeys(c).map((u) => `${name}: unknown key ${u.path}${u.suggestion ? ` (did you mean ${u.suggestion}?)` : ''}`);
  // A variant with content of its own shows it instead of the campaign's.
  const contents: Array<[Content, string]> = [[c.content, 'content']];
  (c.variants ?? []).forEach((v, i) => v.content && contents.push([v.content, `variants[${i}].content`]));
  for (const [content, path] of contents)
    out.push(...[...localCountdowns(content, path), ...lowContrast(content, path), ...clashingNames(content, path)].map((w) => `${name}: ${w}`));
  out.push(...impossibleDays(c, '').map((w) => `${name}: ${w}`));
  out.push(...[...regexWarnings(c.targeting), ...dateWarnings(c.targeting)].map((w) => `${name}: ${w}`));
  // The SDK reads [h, h] as no hour excluded (compileSchedule): likely a window typed wrong.
  const hours = c.schedule?.hours;
  if (hours && hours[0] === hours[1]) out.push(`${name}: schedule.hours [${hours}] has equal ends: it runs all day (for a window, give two different hours)`);
  if (c.layout.type === 'fullscreen') {
    for (const [content, path] of contents) {
      const trapped = trappedSteps(content, path);
      if (trapped.length)
        out.push(
          `${name}: full screen with ${path}.style.closeButton "none" and ${path}.noshowLink false, and no close button in ` +
            `${trapped.join(', ')}: on a touch screen (no Esc key) a visitor there has no way to close it`,
        );
    }
  }
  if (c.status !== 'live') return out;
  const now = ctx.now ?? Date.now();
  const s = c.schedule;
  if (s) {
    // The SDK's own reading of the bounds: wall-clock time in the site's zone unless an offset is
    // given, and a date-only end covers that whole day.
    const wall = zone(ctx.timezone, () => {});
    const start = bound(s.start, wall);
    const end = bound(s.end, wall, true);
    const where = (d: string) => (/(Z|[+-]\d\d:\d\d)$/.test(d) || ctx.timezone === 'UTC' ? d : `${d} (${ctx.timezone})`);
    if (end <= now) out.push(`${name}: schedule ended ${where(s.end!)}: it will not show`);
    else if (start >= end) out.push(`${name}: schedule starts ${where(s.start!)}, after it ends ${where(s.end!)}: it will never show`);
  }
  if (c.control === 100) out.push(`${name}: control 100: every visitor is held back in the control group: it will not show`);
  if (!ctx.countryHeader && conditions(c.targeting, '').some(([r]) => r.type === 'country')) {
    out.push(
      `${name}: targeting uses the visitor's country, but POPLET_COUNTRY_HEADER is not set here: a server without it knows no ` +
        'country, so country "in" never matches ("not_in" always does)',
    );
  }
  return out;
}
