// Schedules in the site's time zone, via Intl only (no tz database shipped).
import type { Schedule } from '../../shared/campaign-targeting';

const DAY = 864e5;
const DAYS = 'Sun Mon Tue Wed Thu Fri Sat'.split(' ');

/** Offset (ms) of a time zone at an instant: local wall clock minus UTC. */
export type Offset = (t: number) => number;

/** Offset function for an IANA zone; falls back to UTC (with a log line) when the zone is unknown. */
export function zone(tz: string | undefined, log: (l: string) => void): Offset {
  let f: Intl.DateTimeFormat;
  try {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz || 'UTC', hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  } catch {
    log(`time zone '${tz}' unknown: schedules use UTC`);
    return () => 0;
  }
  return (t) => {
    const p: Record<string, number> = {};
    for (const { type, value } of f.formatToParts(t)) p[type] = +value;
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(t / 1000) * 1000;
  };
}

/**
 * Epoch ms of a schedule bound. With an explicit offset (Z, +02:00) the string is an instant;
 * without, it is wall-clock time in the site's zone. A date-only `end` covers that whole day.
 */
export function bound(s: string, off: Offset, end?: boolean): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?)?$/.exec(s);
  if (!m) return Date.parse(s);
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)) + (end && !m[4] ? DAY : 0);
  // Two passes settle the offset across a DST change.
  let t = wall - off(wall);
  t = wall - off(t);
  return t;
}

export interface CompiledSchedule {
  start: number;
  end: number;
  days?: number[];
  hours?: [number, number];
}

export function compileSchedule(s: Schedule, off: Offset): CompiledSchedule {
  return { start: s.start ? bound(s.start, off) : -Infinity, end: s.end ? bound(s.end, off, true) : Infinity, days: s.days, hours: s.hours };
}

const fmt = (t: number): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
const hh = (h: number): string => `${Math.floor(h)}:${String(Math.round((h % 1) * 60)).padStart(2, '0')}`;

/** Day of week (0 = Sunday) and fractional hour of the site's wall clock. */
export type Local = [day: number, hour: number];

export function localTime(now: number, off: Offset): Local {
  const d = new Date(now + off(now));
  return [d.getUTCDay(), d.getUTCHours() + d.getUTCMinutes() / 60];
}

/** undefined when `now` is inside the schedule, else why not. `local` is computed once per evaluation. */
export function checkSchedule(s: CompiledSchedule, now: number, local: () => Local): string | undefined {
  if (now < s.start) return `schedule starts ${fmt(s.start)}`;
  if (now >= s.end) return `schedule ended ${fmt(s.end)}`;
  if (s.days || s.hours) {
    const [day, h] = local();
    if (s.days && !s.days.includes(day)) return `schedule: not on ${DAYS[day]} (site time), only ${s.days.map((i) => DAYS[i]).join(', ')}`;
    const [a, b] = s.hours ?? [0, 24];
    // [22, 6) runs over midnight.
    if (a < b ? h < a || h >= b : h < a && h >= b) return `schedule: ${hh(h)} site time is outside hours ${hh(a)}–${hh(b)}`;
  }
}
