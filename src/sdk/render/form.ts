// Form rules of the UI chunk: message texts, client validation, hidden field values.
import type { FieldBlock, MessageKey } from '../../shared/campaign-content';
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
};

/** The message key of what is wrong with `value`, or null. Checkbox values are '' or 'true'. */
export function invalid(b: FieldBlock, value: string): MessageKey | null {
  const v = value.trim();
  if (!v) return 'required' in b && b.required ? 'required' : null;
  if (b.type == 'email') return /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(v) ? null : 'email';
  // Digits with the usual separators, an optional leading +, 6 to 15 digits (E.164 allows 15).
  if (b.type == 'phone') return /^\+?[\d\s().\/-]+$/.test(v) && /^(\D*\d){6,15}\D*$/.test(v) ? null : 'phone';
  if (b.type == 'number') return isFinite(+v.replace(',', '.')) ? null : 'number';
  return null;
}

/** A hidden field's value: `utm_*` from the session, anything else a dot path into the properties. */
export function hiddenValue(ctx: VisitorContext, from: string): string {
  let v: unknown = /^utm_/.test(from) ? ctx.session.utm[from as keyof VisitorContext['session']['utm']] : ctx.props;
  if (!/^utm_/.test(from)) for (const k of from.split('.')) v = v !== null && typeof v == 'object' && Object.prototype.hasOwnProperty.call(v, k) ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v == 'string' || typeof v == 'number' || typeof v == 'boolean' ? String(v) : '';
}
