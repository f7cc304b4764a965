// Presentation half of the campaign schema: layout, blocks, styling.
// Rendered by the UI chunk (src/sdk/render). Plain JSON shapes; the validators are at the bottom.
import { SIGNUP_LIMITS } from './signup';

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
  /** `autocomplete`: the token that lets the browser fill it in (`given-name`, `postal-code`…). */
  | { type: 'text'; name: string; label: string; placeholder?: string; required?: boolean; autocomplete?: string }
  | { type: 'phone' | 'number'; name: string; label: string; placeholder?: string; required?: boolean }
  /** `placeholder` is the preselected empty choice (`messages.choose` when unset); it cannot be picked when required. */
  | { type: 'select'; name: string; label: string; options: string[]; placeholder?: string; required?: boolean }
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

export type MessageKey = 'required' | 'email' | 'phone' | 'number' | 'close' | 'noshow' | 'error' | 'choose';

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
const isText = (v: unknown): v is string => typeof v == 'string';

/** Value kinds of the specs below: the test and what the message says it must be. */
const KINDS: Record<string, [(v: unknown) => boolean, string]> = {
  s: [(v) => isText(v) && v.trim() != '', 'a non-empty string'],
  t: [isText, 'a string'],
  n: [(v) => typeof v == 'number' && v >= 0 && v < Infinity, 'a number >= 0'],
  b: [(v) => typeof v == 'boolean', 'true or false'],
  l: [(v) => Array.isArray(v) && v.length > 0 && v.every(KINDS.s[0]), 'a non-empty list of strings'],
  u: [(v) => isText(v) && isSafeUrl(v), 'an http(s), mailto, tel or relative URL'],
  d: [(v) => isText(v) && !isNaN(Date.parse(v)), 'an ISO date'],
};

/**
 * "key:kind" pairs, `?` = optional; a kind with `|` is a list of allowed values. Blocks, then
 * layouts (prefixed with `layout.`), then the content's own objects. Plain literals only: a
 * computed value (even a string concatenation) keeps the whole table in the UI chunk, which
 * needs only isSafeUrl and isField from this file.
 */
const SPECS: Record<string, string> = {
  heading: 'text:s',
  paragraph: 'text:s html:b?',
  image: 'src:u alt:t width:n? height:n?',
  button: 'label:s action:link|close|next|submit href:u? newTab:b? secondary:b?',
  countdown: 'until:d label:t?',
  email: 'name:s? label:s placeholder:t? required:b?',
  // The autofill tokens (HTML's) a sign-up's text field may ask for: a typo is refused at import.
  text: 'name:s label:s placeholder:t? required:b? autocomplete:name|honorific-prefix|given-name|additional-name|family-name|honorific-suffix|nickname|organization|organization-title|street-address|address-line1|address-line2|address-line3|address-level1|address-level2|address-level3|address-level4|postal-code|country|country-name|bday|sex|url|username|language|off?',
  phone: 'name:s label:s placeholder:t? required:b?',
  number: 'name:s label:s placeholder:t? required:b?',
  select: 'name:s options:l label:s placeholder:t? required:b?',
  checkbox: 'name:s label:s required:b?',
  consent: 'name:s? label:s required:b?',
  hidden: 'name:s from:s',
  'layout.popup': '',
  'layout.fullscreen': '',
  'layout.bar': 'position:top|bottom push:b?',
  'layout.slidein': 'position:top-left|top-right|bottom-left|bottom-right',
  'layout.embed': 'selector:s',
  content: 'label:s noshowLink:b?',
  style: 'background:t? color:t? accent:t? accentText:t? font:t? overlay:t? radius:n? width:n? closeButton:icon|text|none?',
};

/**
 * The spec named `name`, own entries only: a block type "constructor" or "toString", or a key
 * added to Object.prototype, is an unknown type, not an inherited member to split. A name that is
 * no string is none (converting an object whose "toString" key is no function throws).
 */
const specOf = (name: unknown): string | undefined => (typeof name == 'string' && Object.hasOwn(SPECS, name) ? SPECS[name] : undefined);

function fields(x: unknown, spec: string, p: string): Err {
  if (!isObj(x)) return p + ': must be an object';
  for (const f of spec.split(' ')) {
    if (!f) continue;
    const [k, s] = f.split(':');
    const kind = s.replace('?', '');
    const v = x[k];
    if (v === undefined && s != kind) continue;
    const [ok, what] = KINDS[kind] || [(v: unknown) => kind.split('|').includes(v as string), 'one of ' + kind.replace(/\|/g, ', ')];
    if (!ok(v)) return `${p}.${k}: ${v === undefined ? 'required' : 'must be ' + what}`;
  }
  return null;
}

/** Field blocks: they carry a value into the sign-up. */
export const isField = (b: Block): b is FieldBlock => /^(email|text|phone|number|select|checkbox|consent|hidden)$/.test(b.type);

/** `success`: the last step, where there is no next step and nothing left to submit. */
function checkStep(x: unknown, p: string, names: Set<string>, success?: boolean): Err {
  if (!isObj(x) || !Array.isArray(x.blocks)) return p + '.blocks: must be a list';
  for (let i = 0; i < x.blocks.length; i++) {
    const b = x.blocks[i] as O;
    const bp = `${p}.blocks[${i}]`;
    const spec = isObj(b) && specOf(b.type);
    const e = spec != null && spec !== false ? fields(b, spec, bp) : isObj(b) ? `${bp}.type: ${typeof b.type == 'string' ? `unknown block '${b.type}'` : 'must be a string'}` : bp + ': must be an object';
    if (e) return e;
    if (b.type == 'button' && b.action == 'link' && !b.href) return bp + '.href: required';
    if (success && b.type == 'button' && /^(next|submit)$/.test(b.action as string)) return bp + '.action: must be close or link in the success step';
    if (isField(b as unknown as Block)) {
      const name = (b.name || b.type) as string;
      if (names.has(name)) return `${bp}.name: duplicate field name '${name}'`;
      // The server refuses a sign-up that carries a longer name or consent text: every visitor would see an error.
      if (name.length > SIGNUP_LIMITS.name) return `${bp}.name: at most ${SIGNUP_LIMITS.name} characters`;
      if (b.type == 'consent' && (b.label as string).length > SIGNUP_LIMITS.value) return `${bp}.label: at most ${SIGNUP_LIMITS.value} characters`;
      names.add(name);
    }
  }
  return null;
}

const LAYOUTS = 'popup, fullscreen, bar, slidein, embed';

export function checkLayout(x: unknown): Err {
  const spec = isObj(x) && specOf('layout.' + x.type);
  return spec != null && spec !== false ? fields(x, spec, 'layout') : 'layout.type: must be one of ' + LAYOUTS;
}

export function checkContent(x: unknown, path: string): Err {
  const e = fields(x, SPECS.content, path);
  if (e) return e;
  const c = x as O;
  const steps = c.steps as O[];
  if (!Array.isArray(steps) || !steps.length) return path + '.steps: must be a non-empty list';
  const names = new Set<string>();
  for (let i = 0; i < steps.length; i++) {
    const se = checkStep(steps[i], `${path}.steps[${i}]`, names);
    if (se) return se;
  }
  // Every sign-up carries an email (the Email API's key), so a form needs an email field.
  if (names.size && !steps.some((s) => (s.blocks as O[]).some((b) => b.type == 'email'))) return path + '.steps: a form needs an email field';
  const m = c.messages as O | undefined;
  if (m !== undefined) {
    if (!isObj(m)) return path + '.messages: must be an object';
    // Own keys only: a key a page added to Object.prototype is no message.
    for (const k of Object.keys(m)) if (!isText(m[k])) return `${path}.messages.${k}: must be a string`;
  }
  return checkStep(c.success, path + '.success', new Set(), true) || (c.style === undefined ? null : fields(c.style, SPECS.style, path + '.style'));
}
