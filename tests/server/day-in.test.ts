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
});
