// Schedules in the site's time zone, via Intl only (no tz database shipped).
import type { Schedule } from '../../shared/campaign-targeting';

/** Offset (ms) of a time zone at an instant: local wall clock minus UTC. */
export type Offset = (t: number) => number;

/** Offset function for an IANA zone; falls back to UTC (with a log line) when the zone is unknown. */
export function zone(tz: string | undefined, log: (l: string) => void): Offset {
  try {
    // 'longOffset' formats as "6/18/2025, GMT+02:00" ("GMT" alone for UTC).
    const f = new Intl.DateTimeFormat('en', { timeZone: tz || 'UTC', timeZoneName: 'longOffset' });
    // Every campaign of an evaluation asks for the same instant: format it once.
    let at: number;
    let ms: number;
    return (t) => {
      if (t !== at) {
        const m = /([+-])(\d\d):(\d\d)/.exec(f.format((at = t)));
        // The sign as a factor: +('-' + 6e4) is -60000.
        ms = m ? (+m[2] * 60 + +m[3]) * +(m[1] + 6e4) : 0;
      }
      return ms;
    };
  } catch {
    log(`time zone '${tz}' unknown: schedules use UTC`);
    return () => 0;
  }
}

/**
 * Epoch ms of a schedule bound (NaN when absent). With an explicit offset (Z, +02:00) the string
 * is an instant; without, it is wall-clock time in the site's zone. A date-only `end` covers that whole day.
 */
export function bound(s: string | undefined, off: Offset, end?: boolean): number {
  const m = /^\d{4}-\d\d-\d\d([T ][\d:.]+)?$/.exec(s!);
  if (!m) return Date.parse(s!);
  const wall = Date.parse(m[1] ? s!.replace(' ', 'T') + 'Z' : s!) + (end && !m[1] ? 864e5 : 0);
  // The second pass settles the offset across a DST change.
  return wall - off(wall - off(wall));
}

/** The schedule as a test of an instant: undefined inside, else why not (with the site's wall-clock time). */
export function compileSchedule(s: Schedule, off: Offset): (now: number) => string | undefined {
  const start = bound(s.start, off);
  const end = bound(s.end, off, true);
  const [a, b] = s.hours || [0, 24];
  return (now) => {
    const d = new Date(now + off(now));
    const h = d.getUTCHours() + d.getUTCMinutes() / 60;
    // Comparisons with a NaN (absent) bound are false. Hours [22, 6) run over midnight.
    if (now < start || now >= end || (s.days && !s.days.includes(d.getUTCDay())) || (a < b ? h < a || h >= b : h < a && h >= b))
      return `schedule ${JSON.stringify(s)} excludes site time ${d.toUTCString().slice(0, 22)}`;
  };
}
