// dayIn keeps the last minute's day per time zone: the answers must stay those of Intl, at a
// midnight, back and forth across it, in a zone whose offset is not whole hours, zones interleaved.
import { describe, expect, it } from 'vitest';
import { dayIn } from '../../src/server/store/events';

const intl = (ms: number, timeZone: string) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);

describe('dayIn', () => {
  it("gives Intl's day on either side of a site's midnight, asked in any order", () => {
    // 2026-03-01 00:00 in Kathmandu (UTC+05:45) and in Paris (UTC+01:00).
    const kathmandu = Date.UTC(2026, 1, 28, 18, 15);
    const paris = Date.UTC(2026, 1, 28, 23, 0);
    const instants = [-1, 0, -1, 59_999, -60_000, 60_000, -1].flatMap((d) => [
      [kathmandu + d, 'Asia/Kathmandu'],
      [paris + d, 'Europe/Paris'],
    ]) as Array<[number, string]>;
    for (const [ms, tz] of instants) expect(dayIn(ms, tz), `${new Date(ms).toISOString()} in ${tz}`).toBe(intl(ms, tz));
    expect(dayIn(kathmandu - 1, 'Asia/Kathmandu')).toBe('2026-02-28');
    expect(dayIn(kathmandu, 'Asia/Kathmandu')).toBe('2026-03-01');
    expect(dayIn(paris - 1, 'Europe/Paris')).toBe('2026-02-28');
    expect(dayIn(paris, 'Europe/Paris')).toBe('2026-03-01');
  });

  it("gives Intl's day, or its error, for instants whose days do not change on whole minutes", () => {
    const ask = (ms: number, tz: string) => {
      let want: string;
      try {
        want = intl(ms, tz);
      } catch {
        expect(() => dayIn(ms, tz), `${ms} in ${tz}`).toThrow(RangeError);
        return;
      }
      expect(dayIn(ms, tz), `${ms} in ${tz}`).toBe(want);
    };
    // Each pair: a minute's day asked, then an instant of the same minute (by Math.floor) on another day.
    // Monrovia kept its -00:44:30 until 7 January 1972: midnight of 1 January 1972 was 00:44:30 UTC.
    for (const ms of [Date.UTC(1972, 0, 1, 0, 44), Date.UTC(1972, 0, 1, 0, 44, 30)]) ask(ms, 'Africa/Monrovia');
    // New York's local mean time (-04:56:02) before 1883: midnight at 04:56:02 UTC.
    for (const ms of [Date.UTC(1850, 0, 1, 4, 56), Date.UTC(1850, 0, 1, 4, 56, 2)]) ask(ms, 'America/New_York');
    // A fraction of a millisecond before 1970: Intl drops the fraction (towards 0), a floor does not.
    for (const ms of [-30_000, -0.5]) ask(ms, 'UTC');
    // Out of Date's range, again and again: an error each time, never the day asked before.
    for (const ms of [0, Infinity, Infinity, 8.64e15, 8.64e15 + 1, 8.64e15 + 1, -8.64e15 - 1, -8.64e15 - 1, NaN, NaN]) ask(ms, 'Europe/Paris');
  });
});
