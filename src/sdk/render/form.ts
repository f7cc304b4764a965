// Form rules of the UI chunk: message texts, client validation, hidden field values.
import type { FieldBlock, MessageKey } from '../../shared/campaign-content';
import { isEmail } from '../../shared/signup';
import type { VisitorContext } from '../context/types';

export type Messages = Record<MessageKey, string>;

// Keys in the order that gzips smallest (the lint's suggestions, the first of two as near, still
// name `close` before `choose`).
export const DEFAULT_MESSAGES: Messages = {
  email: 'Please enter a valid email address.',
  number: 'Please enter a number.',
  noshow: "Don't show popups again",
  required: 'This field is required.',
  phone: 'Please enter a valid phone number.',
  close: 'Close',
  error: 'Something went wrong. Please try again.',
  choose: 'Choose…',
};

/**
 * Format of each checked field type. Email: the server's own rule, so that what passes here is
 * never refused there. Phone: an optional +, digits and the usual separators, 6 to 15 digits (E.164).
 */
const FORMATS: Partial<Record<FieldBlock['type'], { test(v: string): boolean }>> = {
  email: { test: isEmail },
  phone: /^\+?[\s().\/-]*(\d[\s().\/-]*){6,15}$/,
  number: /^[+-]?(\d+([.,]\d*)?|[.,]\d+)(e[+-]?\d+)?$/i,
};

/** The message key of what is wrong with `v` (trimmed; checkboxes give '' or 'true'), or null. */
export function invalid(b: FieldBlock, v: string): MessageKey | null {
  const re = FORMATS[b.type];
  // A sign-up is its email: that field is required whatever the campaign says.
  return !v ? (b.type == 'email' || (b as { required?: boolean }).required ? 'required' : null) : re && !re.test(v) ? (b.type as MessageKey) : null;
}

/** A hidden field's value: `utm_*` from the session, anything else a dot path into the properties. */
export function hiddenValue(ctx: VisitorContext, from: string): string {
  let v: unknown = ctx.props;
  if (/^utm_/.test(from)) v = ctx.session.utm[from as 'utm_source'];
  // Inherited members ("constructor", "toString"…) are functions or objects, never a value.
  else for (const k of from.split('.')) v = v && typeof v == 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return /^(st|bo|nu)/.test(typeof v) ? String(v) : '';
}
