// Countdown block: time left until `until`, ticking each second (the campaign is drawn again every
// second once a countdown is drawn, see App), stopping at zero.

/** "2d 03:04:05", or "03:04:05" under a day; zero once past. */
export function formatLeft(ms: number): string {
  // Not `| 0`: past 2^31 s (68 years: a countdown to 2100, or 9999-12-31 as "no end") it wrapped
  // into a time under a day. The date's seconds round down by themselves.
  const s = Math.max(0, ms / 1000);
  // The time of day of `s` seconds after the epoch is the hh:mm:ss part of the duration.
  return (s < 86400 ? '' : ((s / 86400) | 0) + 'd ') + new Date(s * 1000).toISOString().slice(11, 19);
}
