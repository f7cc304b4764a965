// Schedules in the site's time zone, via Intl only (no tz database shipped).
import { ISO, type Schedule } from '../../shared/campaign-targeting';
import { safe } from '../guard';

/** The site's wall clock at an instant, as a Date whose UTC fields read as local time. */
export type Wall = (t: number) => Date;

/** Wall clock of an IANA zone; UTC (with a log line) when the zone is unknown. */
export function zone(tz: string | undefined, log: (l: string) => void): Wall {
  // The wall-clock fields, read back as UTC. Not timeZoneName 'longOffset': Safari < 15.4,
  // Chrome < 95 and Firefox < 91 refuse it. An unknown zone throws: safe() gives undefined.
  const f = safe(
    () =>
      new Intl.DateTimeFormat('en-US', {
        timeZone: tz || 'UTC',
        hour12: false,
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      }),
  );
  // As JSON: the campaign set may hold anything there, and converting an object whose "toString"
  // key is no function throws.
  f || log(`time zone ${JSON.stringify(tz)} unknown: schedules use UTC`);
  // Every campaign of an evaluation asks for the same instant: compute it once.
  let at: number;
  let d: Date;
  return (t) => {
    if (t !== at) {
      // "6/18/2025, 14:03:05". ICU writes midnight as hour 24 of the same day. The milliseconds
      // within that second: `t % 1e3` is negative before 1970 (-1 would read a second early).
      const m = f && f.format(t).match(/\d+/g)!;
      at = t;
      d = new Date(m ? Date.UTC(+m[2], +m[0] - 1, +m[1], +m[3] % 24, +m[4], +m[5], ((t % 1e3) + 1e3) % 1e3) : t);
    }
    return d;
  };
}

/**
 * Epoch ms of a schedule bound (NaN when absent). With an explicit offset (Z, +02:00) the string
 * is an instant; without, it is wall-clock time in the site's zone. A date-only `end` covers that whole day.
 */
export function bound(s: string | undefined, wall: Wall, end?: boolean): number {
  // undefined reads as "undefined": absent, NaN. Validated bounds always match.
  const m = ISO.exec(s!);
  if (!m || m[4]) return Date.parse(s!);
  const w = Date.parse(m[1] ? s + 'Z' : s!) + (end && !m[1] ? 864e5 : 0);
  const off = (t: number) => +wall(t) - t;
  // The first pass reads the offset a day before, before any change near it; the second settles
  // it across a DST change. So a time the clocks pass twice (02:30 as they go back from 3 to 2) is
  // the first passing, east of UTC as west of it (a first pass at `w` itself could land on either).
  // A wall time the clocks skip (02:30 as they go from 2 to 3, or midnight in Santiago) has no
  // instant: a third pass then gives the other offset, and the later of the two is the time read
  // with the offset from before the change (a day the clocks skip into starts when they do, not
  // an hour before). Elsewhere the third pass changes nothing.
  const b = w - off(w - off(w - 864e5));
  return Math.max(b, w - off(b));
}

/** The schedule as a test of an instant: undefined inside, else why not (with the site's wall-clock time). */
export function compileSchedule(s: Schedule, wall: Wall): (now: number) => string | undefined {
  const start = bound(s.start, wall);
  const end = bound(s.end, wall, true);
  const [a, b] = s.hours || [0, 24];
  return (now) => {
    const d = wall(now);
    const h = d.getUTCHours() + d.getUTCMinutes() / 60;
    // Comparisons with a NaN (absent) bound are false. Hours [22, 6) run over midnight.
    if (now < start || now >= end || (s.days && !s.days.includes(d.getUTCDay())) || (a < b ? h < a || h >= b : h < a && h >= b))
      return `schedule ${JSON.stringify(s)} excludes site time ${d.toUTCString().slice(0, 22)}`;
  };
}
