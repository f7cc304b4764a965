// Presentation half of the campaign schema: layout, blocks, styling.
// Rendered by the UI chunk (src/sdk/render). Plain JSON shapes; the validators are at the bottom.

export type Layout =
  | { type: 'popup' }
  /** `push`: pad the page by the bar's height instead of covering its top or bottom. */
  | { type: 'bar'; position: 'top' | 'bottom'; push?: boolean }
  | { type: 'slidein'; position: 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right' }
  /** Rendered inline inside the first element matching `selector`. */
  | { type: 'embed'; selector: string }
  | { type: 'fullscreen' };

export type FieldBlock =
  /** The value is always sent under `email` (and under `name` too when one is set). */
  | { type: 'email'; name?: string; label: string; placeholder?: string; required?: boolean }
  | { type: 'text' | 'phone' | 'number'; name: string; label: string; placeholder?: string; required?: boolean }
  | { type: 'select'; name: string; label: string; options: string[]; required?: boolean }
  | { type: 'checkbox'; name: string; label: string; required?: boolean }
  /** Consent checkbox: its text is stored with the sign-up. */
  | { type: 'consent'; name?: string; label: string; required?: boolean }
  /** Hidden field, filled from a custom property (dot path) or a UTM parameter (`utm_source`…) of the session. */
  | { type: 'hidden'; name: string; from: string };

export type Block =
  | { type: 'heading'; text: string }
  /** `html: true` means the text is a tiny safe subset (b, strong, i, em, a[href], br), sanitized. */
  | { type: 'paragraph'; text: string; html?: boolean }
  | { type: 'image'; src: string; alt: string; width?: number; height?: number }
  /**
   * `link` opens `href` (http(s), mailto, tel or a relative URL; `newTab` for a new tab) and closes
   * the campaign; `secondary` draws the button as a quiet outline ("No thanks").
   */
  | { type: 'button'; label: string; action: 'link' | 'close' | 'next' | 'submit'; href?: string; newTab?: boolean; secondary?: boolean }
  | { type: 'countdown'; until: string; label?: string }
  | FieldBlock;

export interface Step {
  blocks: Block[];
}

export interface Style {
  background?: string;
  color?: string;
  accent?: string; // button background
  accentText?: string;
  font?: string;
  radius?: number; // px
  width?: number; // px, max width of popups and slide-ins
  overlay?: string; // overlay colour
  closeButton?: 'icon' | 'text' | 'none';
}

export type MessageKey = 'required' | 'email' | 'phone' | 'number' | 'close' | 'noshow' | 'error';

export interface Content {
  /** Accessible name of the dialog. */
  label: string;
  /** One or more steps; a form submit or a `next` button moves on. */
  steps: Step[];
  /** Shown after a sign-up is stored or safely queued. */
  success: Step;
  style?: Style;
  /** Show the "Don't show popups again" link. Default true. */
  noshowLink?: boolean;
  /** Message texts, any language. */
  messages?: Partial<Record<MessageKey, string>>;
}

// ---- Validators ----------------------------------------------------------------------------
// null when valid, else "path: message" naming the first bad field. Terse on purpose: this ships
// in the UI chunk. Unknown extra keys are ignored (forward compatible).

type O = Record<string, unknown>;
type Err = string | null;

/** Links a campaign may carry: http(s), mailto, tel, or relative (never javascript:, data:…). */
export function isSafeUrl(u: string): boolean {
  // Browsers ignore controls and spaces inside a scheme ("java\tscript:"), so judge without them.
  const s = u.replace(/[\x00-\x20]/g, '');
  return !/^[^/?#]*:/.test(s) || /^(https?|mailto|tel):/i.test(s);
}

const isObj = (x: unknown): x is O => typeof x == 'object' && x !== null && !Array.isArray(x);

/**
 * One field check per spec letter: s non-empty string, t any string, n number >= 0, b boolean,
 * l non-empty list of non-empty strings, u safe URL, d date; `?` makes it optional;
 * `a|b|c` is an enum.
 */
function field(x: O, k: string, spec: string, p: string): Err {
  const v = x[k];
  const kind = spec.replace('?', '');
  if (v === undefined && spec != kind) return null;
  const ok =
    kind == 's' ? typeof v == 'string' && v.trim() != '' :
    kind == 't' ? typeof v == 'string' :
    kind == 'n' ? typeof v == 'number' && isFinite(v) && v >= 0 :
    kind == 'b' ? typeof v == 'boolean' :
    kind == 'l' ? Array.isArray(v) && v.length > 0 && v.every((o) => typeof o == 'string' && o != '') :
    kind == 'u' ? typeof v == 'string' && isSafeUrl(v.trim()) :
    kind == 'd' ? typeof v == 'string' && !isNaN(Date.parse(v)) :
    kind.split('|').includes(v as string);
  const what: Record<string, string> = {
    s: 'a non-empty string', t: 'a string', n: 'a number >= 0', b: 'true or false',
    l: 'a non-empty list of strings', u: 'an http(s), mailto, tel or relative URL', d: 'an ISO date',
  };
  return ok ? null : `${p}.${k}: ${v === undefined ? 'required' : 'must be ' + (what[kind] ?? 'one of ' + kind.replace(/\|/g, ', '))}`;
}

function fields(x: unknown, specs: Record<string, string>, p: string): Err {
  if (!isObj(x)) return `${p}: must be an object`;
  for (const k in specs) {
    const e = field(x, k, specs[k], p);
    if (e) return e;
  }
  return null;
}

const INPUT = { label: 's', placeholder: 't?', required: 'b?' };
const NAMED = { name: 's', ...INPUT };
const BLOCKS: Record<string, Record<string, string>> = {
  heading: { text: 's' },
  paragraph: { text: 's', html: 'b?' },
  image: { src: 'u', alt: 't', width: 'n?', height: 'n?' },
  button: { label: 's', action: 'link|close|next|submit', href: 'u?', newTab: 'b?', secondary: 'b?' },
  countdown: { until: 'd', label: 't?' },
  email: { name: 's?', ...INPUT },
  text: NAMED,
  phone: NAMED,
  number: NAMED,
  select: { name: 's', options: 'l', label: 's', required: 'b?' },
  checkbox: { name: 's', label: 's', required: 'b?' },
  consent: { name: 's?', label: 's', required: 'b?' },
  hidden: { name: 's', from: 's' },
};

/** Field blocks: they carry a value into the sign-up. */
export const isField = (b: Block): b is FieldBlock => /^(email|text|phone|number|select|checkbox|consent|hidden)$/.test(b.type);

function checkStep(x: unknown, p: string, names: Set<string>): Err {
  if (!isObj(x) || !Array.isArray(x.blocks)) return `${p}.blocks: must be a list`;
  for (let i = 0; i < x.blocks.length; i++) {
    const b = x.blocks[i] as O;
    const bp = `${p}.blocks[${i}]`;
    const specs = isObj(b) ? BLOCKS[b.type as string] : undefined;
    const e = specs ? fields(b, specs, bp) : isObj(b) ? `${bp}.type: unknown block '${b.type}'` : `${bp}: must be an object`;
    if (e) return e;
    if (b.type == 'button' && b.action == 'link' && b.href === undefined) return `${bp}.href: required`;
    if (isField(b as unknown as Block)) {
      const name = (b.name ?? b.type) as string;
      if (names.has(name)) return `${bp}.name: duplicate field name '${name}'`;
      names.add(name);
    }
  }
  return null;
}

export function checkLayout(x: unknown): Err {
  const specs: Record<string, Record<string, string>> = {
    popup: {},
    fullscreen: {},
    bar: { position: 'top|bottom', push: 'b?' },
    slidein: { position: 'top-left|top-right|bottom-left|bottom-right' },
    embed: { selector: 's' },
  };
  return isObj(x) && specs[x.type as string] ? fields(x, specs[x.type as string], 'layout') : `layout.type: must be one of ${Object.keys(specs).join(', ')}`;
}

export function checkContent(x: unknown, path: string): Err {
  if (!isObj(x)) return `${path}: must be an object`;
  const e = fields(x, { label: 's', noshowLink: 'b?' }, path);
  if (e) return e;
  if (!Array.isArray(x.steps) || !x.steps.length) return `${path}.steps: must be a non-empty list`;
  const names = new Set<string>();
  for (let i = 0; i < x.steps.length; i++) {
    const se = checkStep(x.steps[i], `${path}.steps[${i}]`, names);
    if (se) return se;
  }
  // Every sign-up carries an email (the Email API's key), so a form needs an email field.
  if (names.size && !x.steps.some((s: O) => (s.blocks as O[]).some((b) => b.type == 'email')))
    return `${path}.steps: a form needs an email field`;
  const ue = checkStep(x.success, `${path}.success`, new Set());
  if (ue) return ue;
  if (x.style !== undefined) {
    const t = 't?';
    const se = fields(x.style, { background: t, color: t, accent: t, accentText: t, font: t, overlay: t, radius: 'n?', width: 'n?', closeButton: 'icon|text|none?' }, path + '.style');
    if (se) return se;
  }
  if (x.messages !== undefined) {
    if (!isObj(x.messages)) return `${path}.messages: must be an object`;
    for (const k in x.messages) if (typeof x.messages[k] != 'string') return `${path}.messages.${k}: must be a string`;
  }
  return null;
}
