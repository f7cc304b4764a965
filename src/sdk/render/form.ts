// Form rules of the UI chunk: message texts, client validation, hidden field values.
import type { FieldBlock, MessageKey } from '../../shared/campaign-content';
import { isEmail } from '../../shared/signup';
import type { VisitorContext } from '../context/types';

export type Messages = Record<MessageKey, string>;

export const DEFAULT_MESSAGES: Messages = {
  required: 'This field is required.',
  email: 'Please enter a valid email address.',
  phone: 'Please enter a valid phone number.',
  number: 'Please enter a number.',
  close: 'Close',
  noshow: "Don't show popups again",
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
