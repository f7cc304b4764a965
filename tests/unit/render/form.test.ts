import { describe, expect, it } from 'vitest';
import { hiddenValue, invalid } from '../../../src/sdk/render/form';
import { isEmail, validateSignup } from '../../../src/shared/signup';
import { formatLeft } from '../../../src/sdk/render/countdown';
import type { VisitorContext } from '../../../src/sdk/context/types';

describe('invalid', () => {
  const email = { type: 'email', label: 'E', required: true } as const;
  it.each([
    ['', 'required'],
    ['ada@example.com', null],
    ['ada.lovelace+news@mail.example.co.uk', null],
    ['ada@example', 'email'],
    ['ada@@example.com', 'email'],
    ['ada @example.com', 'email'],
    ['ada@.example.com', 'email'],
    ['@example.com', 'email'],
    // What a looser rule let through and the server refuses, so the visitor got a general error.
    ['ada@example.c', 'email'],
    ['ada@example.com,', 'email'],
    ['a"b@example.com', 'email'],
    ['ada@exa_mple.com', 'email'],
    ['x'.repeat(65) + '@example.com', 'email'],
    ['ada@' + 'a'.repeat(250) + '.com', 'email'],
    ['josé@bücher.example', null],
    // An internationalised top-level domain as Chromium's email input gives it: punycode.
    ['user@xn--e1afmkfd.xn--p1ai', null],
    ['user@xn--r8jz45g.xn--fiqs8s', null],
    ['user@example.xn--', 'email'],
  ])('email %j → %s', (v, want) => expect(invalid(email, v)).toBe(want));

  it("email: the server's rule, so what the form accepts the server takes", () => {
    const corpus = [
      'ada@example.com', 'a@b.co', 'ada@example.c', 'ada@example.com,', 'a"b@example.com', 'ada@exa_mple.com', 'ada@-example.com',
      'ada@example-.com', 'ada@example..com', 'ada@example.123', 'ada@[127.0.0.1]', 'a b@example.com', 'a;b@example.com', 'ada@localhost',
      'x'.repeat(64) + '@example.com', 'x'.repeat(65) + '@example.com', 'ada@' + 'a'.repeat(63) + '.com', 'ada@' + 'a'.repeat(64) + '.com',
      'ada+tag@sub.example.co.uk', 'ada@xn--bcher-kva.example', 'ada@xn--e1afmkfd.xn--p1ai', 'ada@example.xn--', 'ada@example.xn-p1ai', 'ада@пример.рф', 'ada@example.com\u0000',
      // Invisible format characters and a lone surrogate: the form used to let them through and
      // the server's 422 came back as an error after the visitor had submitted.
      'a\u200b@example.com', 'ad\u00ada@example.com', 'ada\u202e@example.com', 'a\ufeffda@example.com', 'ada\ud800@example.com', 'ada\ue000@example.com',
    ];
    for (const v of corpus) {
      const server = validateSignup({ id: 'abcdefghijkl', site: 's', wisepop_id: 1, email: v }) == null;
      expect([v, invalid(email, v) == null], v).toEqual([v, server]);
      expect(server).toBe(isEmail(v));
    }
  });

  it('optional empty fields are fine; required checkboxes need a tick', () => {
    expect(invalid({ type: 'text', name: 'n', label: 'N' }, '')).toBeNull();
    // Every sign-up carries an email: an email field the campaign left optional is required all the same.
    expect(invalid({ type: 'email', label: 'E' }, '')).toBe('required');
    expect(invalid({ type: 'email', label: 'E', required: false }, '')).toBe('required');
    expect(invalid({ type: 'consent', label: 'C', required: true }, '')).toBe('required');
    expect(invalid({ type: 'consent', label: 'C', required: true }, 'true')).toBeNull();
  });

  const phone = { type: 'phone', name: 'p', label: 'P' } as const;
  it.each([
    ['+33 6 12 34 56 78', null],
    ['(555) 123-4567', null],
    ['+1.555.123.4567', null],
    ['12345', 'phone'],
    ['1234567890123456', 'phone'],
    ['call me', 'phone'],
    ['+33 6 12 34 56 78 ext', 'phone'],
  ])('phone %j → %s', (v, want) => expect(invalid(phone, v)).toBe(want));

  const num = { type: 'number', name: 'n', label: 'N' } as const;
  it.each([['42', null], ['-3.5', null], ['36,5', null], ['1e3', null], ['.5', null], ['4 2', 'number'], ['12abc', 'number'], ['Infinity', 'number']])(
    'number %j → %s',
    (v, want) => expect(invalid(num, v)).toBe(want),
  );
});

describe('hiddenValue', () => {
  const ctx = {
    props: { user: { plan: 'pro', seats: 3, trial: false, tags: ['a'], nested: { deep: 'x' } }, 'a.b': 'flat' },
    session: { utm: { utm_source: 'news', utm_campaign: 'spring' } },
  } as unknown as VisitorContext;
  it.each([
    ['user.plan', 'pro'],
    ['user.seats', '3'],
    ['user.trial', 'false'],
    ['user.nested.deep', 'x'],
    ['user.tags', ''],
    ['user.missing.deeper', ''],
    ['user.constructor', ''],
    ['__proto__.toString', ''],
    ['utm_source', 'news'],
    ['utm_medium', ''],
  ])('%s → %j', (from, want) => expect(hiddenValue(ctx, from)).toBe(want));
});

describe('formatLeft', () => {
  it.each([
    [0, '00:00:00'],
    [-5000, '00:00:00'],
    [59_999, '00:00:59'],
    [3_600_000 + 61_000, '01:01:01'],
    [86_400_000 * 2 + 3 * 3_600_000 + 4 * 60_000 + 5_000, '2d 03:04:05'],
    [86_400_000 * 400, '400d 00:00:00'],
    [1_999.9, '00:00:01'],
    // Past 2^31 seconds: no wrap into a time under a day.
    [86_400_000 * 30_000 + 1_500, '30000d 00:00:01'],
  ])('%i ms → %s', (ms, want) => expect(formatLeft(ms)).toBe(want));
});
