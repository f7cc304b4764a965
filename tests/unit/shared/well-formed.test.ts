// Strings that are not text: lone surrogates (stored as U+FFFD, so the row no longer holds what
// was sent and the address shown can never be erased) and, in addresses, invisible format
// characters. validateSignup and validateEventBatch refuse them, naming the field.
import { describe, expect, it } from 'vitest';
import { isWellFormed } from '../../../src/shared/events';
import { validateSignup } from '../../../src/shared/signup';
import { validateEventBatch } from '../../../src/shared/events';

const signup = (over: Record<string, unknown>) => validateSignup({ id: 'abcdefghijkl', site: 's', wisepop_id: 1, email: 'ada@example.com', ...over });
const batch = (event: Record<string, unknown>) => validateEventBatch({ site: 's', events: [{ k: 'display', c: 1, t: 1, ...event }] });

describe('isWellFormed', () => {
  it.each([
    ['', true],
    ['plain', true],
    ['😀 emoji, 👨‍👩‍👧 a ZWJ family', true],
    ['\ud800', false],
    ['\udfff', false],
    ['a\ud800b', false],
    ['a\udc00b', false],
    ['😀\udc00', false],
    ['\ud800😀', false],
    ['\ud83d\ude00\ud83d', false],
  ])('%j → %s', (s, want) => expect(isWellFormed(s)).toBe(want));

  it('agrees with String.prototype.isWellFormed on random UTF-16', () => {
    const units = [0x41, 0xe9, 0x200b, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xd83d, 0xde00, 0xfffd];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 5000; i++) {
      const s = String.fromCharCode(...Array.from({ length: next() % 6 }, () => units[next() % units.length]!));
      expect(isWellFormed(s), JSON.stringify(s)).toBe((s as string & { isWellFormed(): boolean }).isWellFormed());
    }
  });
});

describe('validateSignup refuses what is not text', () => {
  it.each([
    [{ email: '\ud800@example.com' }, 'email: not a valid address'],
    [{ email: 'ada\udc00@example.com' }, 'email: not a valid address'],
    [{ email: 'a@exa\udfffmple.com' }, 'email: not a valid address'],
    // Invisible format characters (\p{Cf}): an address that shows as another one.
    [{ email: 'a\u200b@example.com' }, 'email: not a valid address'],
    [{ email: 'ad\u00ada@example.com' }, 'email: not a valid address'],
    [{ email: 'ada\u202e@example.com' }, 'email: not a valid address'],
    [{ email: 'a\ufeffda@example.com' }, 'email: not a valid address'],
    [{ fields: { City: '\ud800' } }, /^fields\.City: must be well-formed Unicode text/],
    [{ fields: { City: 'Lyon\udc00' } }, /^fields\.City: must be well-formed Unicode text/],
    [{ fields: { '\udc00': 'x' } }, /^fields: a field name must be well-formed Unicode text/],
    [{ fields: { ['Ci\ud800ty']: 'x' } }, /^fields: a field name must be well-formed Unicode text/],
    [{ consent: 'I agree\ud800' }, /^consent: must be well-formed Unicode text/],
    [{ variant: '\udc00b' }, /^variant: must be well-formed Unicode text/],
  ])('%j → %s', (over, want) => {
    const error = signup(over);
    if (typeof want === 'string') expect(error).toBe(want);
    else expect(error).toMatch(want);
  });

  it('still takes text: pairs, ZWJ sequences in fields, any script', () => {
    expect(signup({ email: '  josé@bücher.example ' })).toBeNull();
    expect(signup({ email: 'ада@пример.рф' })).toBeNull();
    expect(signup({ fields: { Family: '👨‍👩‍👧', 'Nom 😀': 'Zoë\u200d' }, consent: 'Oui 👍', variant: 'b😀' })).toBeNull();
  });
});

describe('validateEventBatch refuses what is not text', () => {
  it.each([
    [{ k: 'goal', n: '\ud800', r: 1 }, /^events\[0\]\.n: must be well-formed Unicode text/],
    [{ k: 'goal', n: 'purchase\udc00' }, /^events\[0\]\.n: must be well-formed Unicode text/],
    [{ g: '\udc00' }, /^events\[0\]\.g: must be well-formed Unicode text/],
    [{ k: 'goal', n: 'x', g: 'a\ud800' }, /^events\[0\]\.g: must be well-formed Unicode text/],
  ])('%j → %s', (event, want) => expect(batch(event)).toMatch(want));

  it('still takes text', () => {
    expect(batch({ k: 'goal', n: 'achat 😀', g: 'b😀' })).toBeNull();
    expect(batch({ g: 'control' })).toBeNull();
  });
});
