// Sign-up ids lead with the time, so that the ids of one site sort by time: the server's unique
// index of them (site_id, client_id) then grows at its end instead of a random page per sign-up.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signupId, validateSignup } from '../../../src/shared/signup';

afterEach(() => vi.useRealTimers());

describe('signupId', () => {
  it('sorts as text in the order it was made, whatever the random part', () => {
    vi.useFakeTimers();
    const made: string[] = [];
    // From 1973 to 2059 the time takes 8 base-36 characters; each step crosses a digit's carry.
    for (const at of [Date.UTC(1973, 0, 1), Date.UTC(2026, 10, 24), Date.UTC(2026, 10, 24) + 1, Date.UTC(2026, 10, 24) + 36, Date.UTC(2040, 0, 1), Date.UTC(2059, 0, 1)]) {
      vi.setSystemTime(at);
      made.push(signupId(made.length % 2 ? 'zzzzzzzzzzzzzzzzzzzzz' : '---------------------'));
    }
    expect(made.map((id) => id.length)).toEqual(made.map(() => 29));
    expect([...made].sort()).toEqual(made);
    expect(parseInt(made[1]!.slice(0, 8), 36)).toBe(Date.UTC(2026, 10, 24));
  });

  it('is a valid sign-up id for the server', () => {
    const id = signupId('V1StGXR8_Z5jdHi6B-myT');
    expect(validateSignup({ id, site: 'site1', wisepop_id: 1, email: 'ann@example.com' })).toBeNull();
  });
});
