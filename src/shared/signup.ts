// The sign-up: what the browser posts to POST /collect, and what the Email API and hooks return.
// Validator: validateSignup (below, owned by the server work) is used by the server; the browser
// only builds these.
import { isWellFormed, NOT_TEXT } from './events';

export interface SignupPayload {
  /** Made in the browser before the first send (signupId): the server deduplicates on it. */
  id: string;
  site: string;
  /** Campaign id. */
  wisepop_id: number;
  email: string;
  /** Every other form field, by field name (the Email API's `other_fields`); absent = none. */
  fields?: Record<string, string>;
  /** The consent checkbox's text when it was ticked; absent when the form had none. */
  consent?: string;
  /** Honeypot: must be empty; a filled one is answered like a new sign-up (201) and dropped. */
  hp?: string;
  variant?: string;
}

/** One row of GET /api1/emails and of a hook payload (the seed's shape, to the letter). */
export interface EmailRow {
  collected_at: string;
  email: string;
  wisepop_id: number;
  ip: string;
  country_code: string | null;
  other_fields: Record<string, string>;
}

/** 200/201 answer of POST /collect. */
export interface CollectResponse {
  id: string;
  collected_at: string;
}

/**
 * A new sign-up's id: the time in base 36 (8 characters from 1973 to 2059), then `random` (the
 * SDK's nanoid, 21 characters). The time first, so that one site's ids sort by time and the
 * server's unique index of them grows at its end: with random ids each sign-up of a batch dirtied
 * a page of its own there, and /collect stored about a third fewer sign-ups per second
 * (tests/bench/server.ts).
 */
export const signupId = (random: string): string => Date.now().toString(36) + random;

// A const enum: the bundles take the numbers they read (the UI chunk two of them), not the object.
export const enum SIGNUP_LIMITS {
  fields = 50,
  name = 50,
  value = 1000,
  email = 254,
}

// Practical address syntax: no spaces, quotes, brackets or other characters (\p{C}: control,
// invisible format characters such as zero-width spaces, bidi overrides and soft hyphens, lone
// surrogates, private use, unassigned) in the local part; a dotted domain whose labels are letters
// (any script), digits or inner hyphens; a top-level label of 2+ letters, or its ASCII form
// (xn--…: Chromium's email input hands user@пример.рф over as user@xn--e1afmkfd.xn--p1ai). An address holding an
// invisible character shows as another, or as U+FFFD once stored, and could not be found again
// (the Email API, erasure). "Unassigned" follows each side's Unicode version: a character newer
// than the server's is refused there with a 422 that the form shows.
const EMAIL = /^[^\s\p{C}@"<>(),;:\\[\]]{1,64}@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+(xn--[\da-z-]+|\p{L}{2,63})$/u;
const ID = /^[A-Za-z0-9_-]{10,64}$/;
// Control characters have no business in a field name or value (newlines in textareas excepted).
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export const isEmail = (s: string): boolean => s.length <= SIGNUP_LIMITS.email && EMAIL.test(s);

const optionalText = (v: unknown, max: number) => v === undefined || (typeof v === 'string' && v.length <= max);

/**
 * Checks a POST /collect body. Returns null when valid, else an error naming the field, e.g.
 * `email: not a valid address`. Surrounding spaces in `email` are tolerated (the server trims).
 */
export function validateSignup(x: unknown): string | null {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'body: must be a JSON object';
  const p = x as Record<string, unknown>;
  if (typeof p.id !== 'string' || !ID.test(p.id)) return 'id: must be 10–64 characters of A–Z a–z 0–9 _ -';
  if (typeof p.site !== 'string' || p.site.length < 1 || p.site.length > 64) return 'site: must be a site id';
  if (typeof p.wisepop_id !== 'number' || !Number.isSafeInteger(p.wisepop_id) || p.wisepop_id < 1) {
    return 'wisepop_id: must be a positive integer';
  }
  if (typeof p.email !== 'string') return 'email: required';
  if (!isEmail(p.email.trim())) return 'email: not a valid address';
  // Optional: a form with only an email field has nothing else to send.
  const fields = p.fields === undefined ? {} : p.fields;
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return 'fields: must be an object';
  const names = Object.keys(fields);
  if (names.length > SIGNUP_LIMITS.fields) return `fields: at most ${SIGNUP_LIMITS.fields} fields`;
  for (const name of names) {
    // Not quoted: half a surrogate pair does not print.
    if (!isWellFormed(name)) return `fields: a field name ${NOT_TEXT}`;
    if (name.length < 1 || name.length > SIGNUP_LIMITS.name || CONTROL.test(name)) {
      return `fields: field name "${name.slice(0, SIGNUP_LIMITS.name)}" must be 1–${SIGNUP_LIMITS.name} printable characters`;
    }
    const value = (fields as Record<string, unknown>)[name];
    if (typeof value !== 'string') return `fields.${name}: must be a string`;
    if (value.length > SIGNUP_LIMITS.value) return `fields.${name}: at most ${SIGNUP_LIMITS.value} characters`;
    if (CONTROL.test(value)) return `fields.${name}: contains control characters`;
    if (!isWellFormed(value)) return `fields.${name}: ${NOT_TEXT}`;
  }
  if (!optionalText(p.consent, SIGNUP_LIMITS.value)) return `consent: must be a string of at most ${SIGNUP_LIMITS.value} characters`;
  if (p.consent !== undefined && !isWellFormed(p.consent as string)) return `consent: ${NOT_TEXT}`;
  if (!optionalText(p.hp, SIGNUP_LIMITS.value)) return 'hp: must be a string';
  if (!optionalText(p.variant, 64)) return 'variant: must be a string of at most 64 characters';
  if (p.variant !== undefined && !isWellFormed(p.variant as string)) return `variant: ${NOT_TEXT}`;
  return null;
}
