// Schedule edges: bounds on days and at times the clocks skip or repeat, in zones with odd
// offsets (Kathmandu +05:45, Chatham +12:45/+13:45) and zones whose DST starts at midnight
// (Santiago, Havana), checked against an independent reading of the site's wall clock.
import { describe, expect, it, vi } from 'vitest';
import { compileSchedule, bound, zone } from '../../../src/sdk/targeting/schedule';

/** The site's wall clock at an instant, as epoch ms of its fields read as UTC (formatToParts, not the code under test). */
const ref = (tz: string) => {
  const f = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  return (t: number) => {
    const p: Record<string, number> = {};
    for (const x of f.formatToParts(t)) p[x.type] = +x.value;
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  };
};
const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/Santiago', 'America/Havana', 'Australia/Lord_Howe', 'America/St_Johns', 'Asia/Beirut'];
const iso = (t: number) => new Date(t).toISOString();

describe('schedule bounds in the site zone', () => {
  it.each(ZONES)('%s: a date-only start is the first instant of that day on the site clock, a date-only end the first of the next, every day of 2024-2025', (tz) => {
    const wall = zone(tz, vi.fn());
    const w = ref(tz);
    const wrong: string[] = [];
    for (let d = Date.UTC(2024, 0, 1); d < Date.UTC(2026, 0, 1); d += 864e5) {
      const day = iso(d).slice(0, 10);
      for (const [t, first] of [[bound(day, wall), d], [bound(day, wall, true), d + 864e5]]) {
        // On the site clock: at or after that midnight, and the minute before is not.
        if (!(w(t) >= first && w(t - 6e4) < first)) wrong.push(`${day}: ${iso(t)} reads ${iso(w(t))}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it.each(ZONES)('%s: a wall-clock time is never earlier than written on the site clock (a skipped time starts when the clocks skip past it)', (tz) => {
    const wall = zone(tz, vi.fn());
    const w = ref(tz);
    const wrong: string[] = [];
    for (let d = Date.UTC(2024, 0, 1); d < Date.UTC(2026, 0, 1); d += 864e5)
      for (const hm of ['00:00', '00:30', '01:30', '02:00', '02:30', '03:00', '23:59']) {
        const s = iso(d).slice(0, 10) + 'T' + hm;
        const t = bound(s, wall);
        // At or after the written time on the site clock, and no later than the longest skip (1 h) after it.
        if (!(w(t) >= Date.parse(s + 'Z') && w(t) <= Date.parse(s + 'Z') + 36e5)) wrong.push(`${s}: ${iso(t)} reads ${iso(w(t))}`);
      }
    expect(wrong).toEqual([]);
  });

  it.each(ZONES)('%s: a wall-clock time the clocks pass twice is the first passing, whatever side of UTC the zone is on', (tz) => {
    const wall = zone(tz, vi.fn());
    const w = ref(tz);
    const wrong: string[] = [];
    for (let d = Date.UTC(2024, 0, 1); d < Date.UTC(2026, 0, 1); d += 864e5)
      for (const hm of ['00:30', '01:30', '01:45', '02:30']) {
        const s = iso(d).slice(0, 10) + 'T' + hm;
        const t = bound(s, wall);
        // The clocks go back by 30 min (Lord Howe) or 1 h: the same reading that long before is the first.
        for (const back of [18e5, 36e5]) if (w(t - back) == Date.parse(s + 'Z')) wrong.push(`${s}: ${iso(t)}, read at ${iso(t - back)} already`);
      }
    expect(wrong).toEqual([]);
  });

  it.each([
    // Santiago's clocks go from 24:00 on Saturday 6 September 2025 (UTC-4) to 01:00 (UTC-3): the
    // 7th starts at 04:00 UTC, and the 6th (UTC-4) lasts until then.
    ['2025-09-07', 'America/Santiago', false, '2025-09-07T04:00:00.000Z'],
    ['2025-09-06', 'America/Santiago', true, '2025-09-07T04:00:00.000Z'],
    // Havana: 00:00 -> 01:00 on Sunday 9 March 2025 (UTC-5 -> UTC-4).
    ['2025-03-09', 'America/Havana', false, '2025-03-09T05:00:00.000Z'],
    // New York skips 02:00-03:00 on 9 March 2025: 02:30 starts at 03:00 EDT + 30 min (07:30 UTC),
    // not at 01:30 EST, an hour before the owner's start; Paris does the same forward.
    ['2025-03-09T02:30', 'America/New_York', false, '2025-03-09T07:30:00.000Z'],
    ['2025-03-30T02:30', 'Europe/Paris', false, '2025-03-30T01:30:00.000Z'],
    // Chatham skips 02:45-03:45 (+12:45 -> +13:45) on 28 September 2025.
    ['2025-09-28T03:00', 'Pacific/Chatham', false, '2025-09-27T14:15:00.000Z'],
    // Santiago's clocks go back from 24:00 on 5 April 2025 to 23:00: the 6th starts at 04:00 UTC.
    ['2025-04-05', 'America/Santiago', true, '2025-04-06T04:00:00.000Z'],
    ['2025-06-18', 'Asia/Kathmandu', false, '2025-06-17T18:15:00.000Z'],
    // Times the clocks pass twice are read with the offset from before the change, east of UTC as
    // west of it: Paris 02:30 CEST on 26 October 2025, New York 01:30 EDT on 2 November, Lord Howe
    // 01:45 at +11 on 6 April (its clocks go back 30 min, from 02:00 to 01:30).
    ['2025-10-26T02:30', 'Europe/Paris', false, '2025-10-26T00:30:00.000Z'],
    ['2025-11-02T01:30', 'America/New_York', false, '2025-11-02T05:30:00.000Z'],
    ['2025-04-06T01:45', 'Australia/Lord_Howe', false, '2025-04-05T14:45:00.000Z'],
  ] as const)('%s in %s (end: %s) is %s', (s, tz, end, want) => {
    expect(iso(bound(s, zone(tz, vi.fn()), end))).toBe(want);
  });

  it('a campaign starting on the day Santiago skips midnight into does not show at 23:30 the day before; one ending the day before still shows then', () => {
    const wall = zone('America/Santiago', vi.fn());
    const at = Date.UTC(2025, 8, 7, 3, 30); // Saturday 6 September 2025, 23:30 in Santiago (UTC-4)
    expect(compileSchedule({ start: '2025-09-07' }, wall)(at)).toBe('schedule {"start":"2025-09-07"} excludes site time Sat, 06 Sep 2025 23:30');
    expect(compileSchedule({ end: '2025-09-06' }, wall)(at)).toBeUndefined();
  });
});

describe('days with hours that run over midnight', () => {
  // README: each is checked against the site's current day and hour on its own.
  const s = compileSchedule({ days: [5], hours: [22, 6] }, zone('Europe/Paris', vi.fn()));
  it.each([
    ['Friday 02:00', Date.UTC(2025, 5, 20, 0), true],
    ['Friday 05:59', Date.UTC(2025, 5, 20, 3, 59), true],
    ['Friday 06:00', Date.UTC(2025, 5, 20, 4), false],
    ['Friday 22:00', Date.UTC(2025, 5, 20, 20), true],
    ['Friday 23:59', Date.UTC(2025, 5, 20, 21, 59), true],
    ['Saturday 00:00', Date.UTC(2025, 5, 20, 22), false],
    ['Saturday 02:00', Date.UTC(2025, 5, 21, 0), false],
    ['Thursday 23:00', Date.UTC(2025, 5, 19, 21), false],
  ] as const)('%s in Paris: %s', (_, t, shown) => {
    expect(s(t) === undefined).toBe(shown);
  });
});
