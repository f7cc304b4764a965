import { describe, expect, it, vi } from 'vitest';
import { compile, DEFAULT_GROUP, evaluate, slotOf } from '../../../src/sdk/targeting';
import { bound, zone } from '../../../src/sdk/targeting/schedule';
import type { CampaignHistory, VisitorContext } from '../../../src/sdk/context/types';
import type { Campaign } from '../../../src/shared/campaign';
import { campaign, ctx, DAY, NOW } from './fixtures';

const hist = (o: Partial<CampaignHistory> = {}): CampaignHistory => ({ d: 0, c: 0, v: 0, k: 0, l: 0, p: 0, ...o });
function decide(cs: unknown, over: Partial<VisitorContext> = {}, opts: { timezone?: string; random?: () => number } = {}) {
  const log = vi.fn();
  const d = evaluate(compile(cs, { timezone: opts.timezone, log }), ctx(over), opts.random ?? (() => 0.5));
  return { ...d, log, ids: d.eligible.map((c) => c.campaign.id), why: (id: number) => d.debug.find((l) => l.id == id)?.reason };
}

describe('compile', () => {
  it('skips invalid campaigns with one log line naming the field; the others still run', () => {
    const bad = campaign({ id: 2, targeting: { all: [{ type: 'device', in: ['desktop'] }, { type: 'visits', op: 'gte', value: 1 }, { type: 'page', field: 'path', op: 'foo', value: 'x' }] } as never });
    const r = decide([campaign(), bad, { nonsense: true }]);
    expect(r.ids).toEqual([1]);
    // The validator's wording is its own: what matters here is the path of the bad field.
    expect(r.log.mock.calls.map((c) => c[0])).toEqual([expect.stringMatching(/^campaign 2 skipped: targeting\.all\[2\]\.op: /), expect.stringMatching(/^campaign #2 skipped: id: /)]);
    expect(r.debug.find((l) => l.id == 2)).toEqual({ id: 2, name: 'Welcome', status: 'skipped', reason: expect.stringMatching(/^invalid: targeting\.all\[2\]\.op: /) });
  });
  it('a campaign the compiler cannot take is skipped alone, with the error', () => {
    // Valid by the validator, yet Intl refuses the instant its schedule works out to.
    const odd = campaign({ id: 2, schedule: { start: '2025-06-01T09:00' } });
    const refuse = () => {
      throw new RangeError('Invalid time value');
    };
    vi.spyOn(Intl, 'DateTimeFormat').mockImplementation(function () {
      return { format: refuse, formatToParts: refuse } as unknown as Intl.DateTimeFormat;
    });
    let r: ReturnType<typeof decide>;
    try {
      r = decide([campaign(), odd], {}, { timezone: 'Europe/Paris' });
    } finally {
      vi.restoreAllMocks();
    }
    expect(r.ids).toEqual([1]);
    expect(r.log).toHaveBeenCalledWith('campaign 2 skipped: RangeError: Invalid time value');
    expect(r.debug.find((l) => l.id == 2)).toEqual({ id: 2, name: 'Welcome', status: 'skipped', reason: 'invalid: RangeError: Invalid time value' });
  });
  it('a rule with two group keys is skipped as invalid, not read as one of them', () => {
    const two = campaign({ id: 2, targeting: { all: [{ type: 'visitor', is: 'new' }], not: { type: 'visitor', is: 'new' } } as never });
    const r = decide([campaign(), two, campaign({ id: 3, targeting: { all: [], not: 5 } as never })]);
    expect(r.ids).toEqual([1]);
    expect(r.why(2)).toBe('invalid: targeting.all: bad value');
    expect(r.why(3)).toBe('invalid: targeting.not: bad value');
  });
  it('a campaign whose targeting is only an invalid regex is skipped with the reason, not shown to everyone', () => {
    const bad = { type: 'page', field: 'path', op: 'matches', value: '^/checkout((' } as const;
    const r = decide([campaign({ targeting: bad }), campaign({ id: 2, targeting: { any: [bad] } }), campaign({ id: 3, targeting: { not: bad } })]);
    expect(r.ids).toEqual([]);
    for (const id of [1, 2, 3]) expect(r.debug.find((l) => l.id == id)).toMatchObject({ status: 'skipped', reason: 'page path: invalid regex, condition disabled' });
  });
  it('a set without a campaign list compiles to no campaigns; a lone object is one invalid campaign', () => {
    for (const list of [undefined, null]) expect(decide(list as never).debug).toEqual([]);
    expect(decide({ id: 1 } as never).debug).toEqual([expect.objectContaining({ id: 1, status: 'skipped', reason: 'invalid: name: required' })]);
  });
  // Found by tests/unit/fuzz: a JSON object with a "toString" key cannot be converted to text or a number.
  it("an invalid campaign whose name or id is an object that cannot be converted is skipped alone, under its position", () => {
    const odd = JSON.parse('{"toString": 1, "valueOf": 1}');
    const r = decide([campaign({ id: 2, name: odd, trigger: 5 as never }), campaign({ id: odd, name: odd }), campaign()]);
    expect(r.ids).toEqual([1]);
    expect(r.debug.filter((l) => l.status == 'skipped')).toEqual([
      { id: 2, name: 'campaign 2', status: 'skipped', reason: 'invalid: name: bad value' },
      { id: -1, name: 'campaign #1', status: 'skipped', reason: 'invalid: id: bad value' },
    ]);
  });
  it('a campaign nested deeper than the validator can follow is skipped alone', () => {
    let deep: object = { type: 'visitor', is: 'new' };
    for (let i = 0; i < 20_000; i++) deep = { not: deep };
    const r = decide([campaign({ id: 2, targeting: deep as never }), campaign()]);
    expect(r.ids).toEqual([1]);
    expect(r.why(2)).toMatch(/^invalid: RangeError/);
  });
  it('logs an unknown time zone once and falls back to UTC', () => {
    const r = decide([campaign({ schedule: { hours: [11, 13] } })], {}, { timezone: 'Mars/Olympus' });
    expect(r.ids).toEqual([1]);
    expect(r.log).toHaveBeenCalledWith('time zone "Mars/Olympus" unknown: schedules use UTC');
  });
  // Found by tests/unit/fuzz.
  it('a time zone that is no text (a campaign set served by hand) falls back to UTC the same way', () => {
    const r = decide([campaign({ schedule: { hours: [11, 13] } })], {}, { timezone: JSON.parse('{"toString": 1}') });
    expect(r.ids).toEqual([1]);
    expect(r.log).toHaveBeenCalledWith('time zone {"toString":1} unknown: schedules use UTC');
  });
});

describe('status, noshow', () => {
  it('only live campaigns run', () => {
    const r = decide([campaign({ id: 1, status: 'draft' }), campaign({ id: 2, status: 'paused' }), campaign({ id: 3 })]);
    expect(r.ids).toEqual([3]);
    expect(r.why(1)).toBe('status is draft');
    expect(r.why(2)).toBe('status is paused');
  });
  it('"don\'t show popups again" beats everything', () => {
    const r = decide([campaign({ priority: 100 })], { noshow: true });
    expect(r.ids).toEqual([]);
    expect(r.why(1)).toMatch(/don't show popups again/);
  });
});

describe('schedule in the site time zone', () => {
  // NOW is Wednesday 12:00 UTC = 14:00 in Paris (CEST), 08:00 in New York (EDT).
  const at = (schedule: Campaign['schedule'], timezone?: string, now = NOW) => decide([campaign({ schedule })], { now }, { timezone });
  const utc = (s: string, tz: string, end?: boolean) => new Date(bound(s, zone(tz, vi.fn()), end)).toISOString();
  it('bounds: instants as written, wall-clock time in the site zone otherwise, a date-only end covers its day', () => {
    expect(utc('2025-06-18T13:00:00Z', 'America/New_York')).toBe('2025-06-18T13:00:00.000Z');
    expect(utc('2025-06-18T13:00+02:00', 'America/New_York')).toBe('2025-06-18T11:00:00.000Z');
    expect(utc('2025-06-18T13:00', 'Europe/Paris')).toBe('2025-06-18T11:00:00.000Z');
    expect(utc('2025-06-18T13:00:30', 'America/New_York')).toBe('2025-06-18T17:00:30.000Z');
    expect(utc('2025-06-18T13:00:30.25-04:00', 'Europe/Paris')).toBe('2025-06-18T17:00:30.250Z');
    expect(utc('2025-06-18T13:00', 'Asia/Kolkata')).toBe('2025-06-18T07:30:00.000Z');
    expect(utc('2025-06-17', 'Europe/Paris', true)).toBe('2025-06-17T22:00:00.000Z');
    expect(utc('2025-06-19', 'Asia/Tokyo')).toBe('2025-06-18T15:00:00.000Z');
    expect(utc('2025-01-15', 'UTC')).toBe('2025-01-15T00:00:00.000Z');
    // Winter time in Paris is UTC+1.
    expect(utc('2025-01-15T12:00', 'Europe/Paris')).toBe('2025-01-15T11:00:00.000Z');
  });
  it('wall-clock bounds settle across a DST change', () => {
    // 2025-03-30 03:30 Paris is after the spring-forward (CEST, UTC+2): 01:30 UTC.
    expect(utc('2025-03-30T03:30', 'Europe/Paris')).toBe('2025-03-30T01:30:00.000Z');
    // 2025-11-02 08:00 New York is after the fall-back (EST, UTC-5).
    expect(utc('2025-11-02T08:00', 'America/New_York')).toBe('2025-11-02T13:00:00.000Z');
  });
  it('the wall clock: midnight is hour 0 of its own day, offsets keep their seconds', () => {
    const wall = (t: number, tz: string) => zone(tz, vi.fn())(t).toISOString();
    // Some ICU builds (Node's) format midnight as "24:00:00" of the day that starts.
    expect(wall(Date.UTC(2025, 5, 16), 'UTC')).toBe('2025-06-16T00:00:00.000Z');
    expect(wall(Date.UTC(2025, 5, 15, 22, 0, 0, 250), 'Europe/Paris')).toBe('2025-06-16T00:00:00.250Z');
    // Monrovia kept local mean time, UTC-00:44:30, until 1972.
    expect(wall(Date.UTC(1971, 0, 1, 12), 'Africa/Monrovia')).toBe('1971-01-01T11:15:30.000Z');
    // Before 1970 the instant's milliseconds are still those within its second (t % 1e3 is negative there).
    expect(wall(-1, 'UTC')).toBe('1969-12-31T23:59:59.999Z');
    expect(wall(Date.UTC(1969, 6, 20, 20, 17, 40, 250), 'Europe/Paris')).toBe('1969-07-20T21:17:40.250Z');
  });
  it("works where the engine refuses timeZoneName 'longOffset' (Safari < 15.4, Chrome < 95, Firefox < 91)", () => {
    const Real = Intl.DateTimeFormat;
    vi.spyOn(Intl, 'DateTimeFormat').mockImplementation(function (locale?: Intl.LocalesArgument, o?: Intl.DateTimeFormatOptions) {
      if (o?.timeZoneName) throw new RangeError('Value longOffset out of range for Intl.DateTimeFormat options property timeZoneName');
      return new Real(locale, o);
    });
    try {
      const r = at({ hours: [14, 15] }, 'Europe/Paris');
      expect(r.ids).toEqual([1]);
      expect(r.log).not.toHaveBeenCalled();
      expect(utc('2025-01-15T12:00', 'Europe/Paris')).toBe('2025-01-15T11:00:00.000Z');
    } finally {
      vi.restoreAllMocks();
    }
  });
  it('start and end: shown from start, not from end on', () => {
    expect(at({ start: '2025-06-18T11:00:00Z' }).ids).toEqual([1]);
    expect(at({ start: '2025-06-18T12:00:00Z' }).ids).toEqual([1]);
    expect(at({ start: '2025-06-18T12:00:01Z' }).why(1)).toBe('schedule {"start":"2025-06-18T12:00:01Z"} excludes site time Wed, 18 Jun 2025 12:00');
    expect(at({ end: '2025-06-18T12:00:00Z' }).ids).toEqual([]);
    expect(at({ end: '2025-06-18T12:00:01Z' }).ids).toEqual([1]);
    // 13:00 Paris wall clock is 11:00 UTC: started. 13:00 New York is 17:00 UTC: not yet.
    expect(at({ start: '2025-06-18T13:00' }, 'Europe/Paris').ids).toEqual([1]);
    expect(at({ start: '2025-06-18T13:00' }, 'America/New_York').why(1)).toBe('schedule {"start":"2025-06-18T13:00"} excludes site time Wed, 18 Jun 2025 08:00');
    expect(at({ start: '2025-06-18T13:00' }, 'America/New_York', Date.UTC(2025, 5, 18, 17)).ids).toEqual([1]);
    expect(at({ start: '2025-06-18T13:00+02:00' }, 'America/New_York').ids).toEqual([1]);
    expect(at({ end: '2025-06-18' }, 'Europe/Paris').ids).toEqual([1]);
    expect(at({ end: '2025-06-18' }, 'Europe/Paris', Date.UTC(2025, 5, 18, 22)).ids).toEqual([]);
    expect(at({ start: '2025-03-30T03:30' }, 'Europe/Paris', Date.UTC(2025, 2, 30, 1, 29)).ids).toEqual([]);
    expect(at({ start: '2025-03-30T03:30' }, 'Europe/Paris', Date.UTC(2025, 2, 30, 1, 30)).ids).toEqual([1]);
  });
  it('days of week in the site zone', () => {
    expect(at({ days: [3] }).ids).toEqual([1]);
    expect(at({ days: [1, 2] }).why(1)).toBe('schedule {"days":[1,2]} excludes site time Wed, 18 Jun 2025 12:00');
    // 12:00 UTC Wednesday is already 02:00 Thursday in Kiritimati (UTC+14).
    expect(at({ days: [4] }, 'Pacific/Kiritimati').ids).toEqual([1]);
    expect(at({ days: [3] }, 'Pacific/Kiritimati').why(1)).toMatch(/site time Thu, 19 Jun 2025 02:00$/);
  });
  it('hours [from, to) in the site zone, also across midnight and in half hours', () => {
    expect(at({ hours: [14, 15] }, 'Europe/Paris').ids).toEqual([1]);
    expect(at({ hours: [9, 14] }, 'Europe/Paris').why(1)).toBe('schedule {"hours":[9,14]} excludes site time Wed, 18 Jun 2025 14:00');
    expect(at({ hours: [22, 9] }, 'America/New_York').ids).toEqual([1]);
    expect(at({ hours: [22, 6] }, 'America/New_York').ids).toEqual([]);
    expect(at({ hours: [22, 6] }, 'America/New_York', Date.UTC(2025, 5, 18, 3)).ids).toEqual([1]);
    expect(at({ hours: [8.5, 17] }, 'America/New_York').ids).toEqual([]);
    expect(at({ hours: [8.5, 17] }, 'America/New_York', Date.UTC(2025, 5, 18, 12, 30)).ids).toEqual([1]);
    expect(at({ hours: [14, 15], days: [3] }, 'Asia/Kolkata', Date.UTC(2025, 5, 18, 8, 29)).ids).toEqual([]);
    expect(at({ hours: [14, 15], days: [3] }, 'Asia/Kolkata', Date.UTC(2025, 5, 18, 8, 30)).ids).toEqual([1]);
  });
});

describe('frequency and stop rules', () => {
  const session = ctx().session;
  const shownThisSession = hist({ d: 1, l: Math.floor((session.start + 1000) / 1000), p: 11 });
  const shownLastWeek = hist({ d: 1, l: Math.floor((NOW - 7 * DAY) / 1000), p: 2 });
  const run = (frequency: Campaign['frequency'], h: CampaignHistory) => decide([campaign({ frequency })], { history: { 1: h } });
  it('default: once per session', () => {
    expect(run(undefined, shownThisSession).why(1)).toBe('already shown this session');
    expect(run(undefined, shownLastWeek).ids).toEqual([1]);
  });
  it('default for an embed: every page view, as it is part of the page; other layouts keep once per session', () => {
    const embed = (frequency: Campaign['frequency'], h: CampaignHistory) =>
      decide([campaign({ frequency, layout: { type: 'embed', selector: '#signup' } })], { history: { 1: h } });
    // Shown on the previous page view of this session (p 11, now 12): there again.
    expect(embed(undefined, shownThisSession).ids).toEqual([1]);
    expect(embed(undefined, { ...shownThisSession, p: 12 }).why(1)).toBe('already shown this page');
    // Only the repeat defaults differently: an explicit one is kept, and so are the stop rules.
    expect(embed({ repeat: { every: 'session' } }, shownThisSession).why(1)).toBe('already shown this session');
    expect(embed({ stopAfter: { displays: 3 } }, shownThisSession).ids).toEqual([1]);
    expect(embed({ stopAfter: { displays: 3 } }, { ...shownThisSession, d: 3 }).why(1)).toBe('stopped after 3 displays');
    expect(embed(undefined, { ...shownThisSession, c: 1 }).why(1)).toBe('stopped after a close');
    expect(embed(undefined, { ...shownThisSession, v: 1 }).why(1)).toBe('stopped after a sign-up');
    for (const layout of [{ type: 'bar', position: 'top' }, { type: 'slidein', position: 'bottom-left' }, { type: 'fullscreen' }] as const)
      expect(decide([campaign({ layout })], { history: { 1: shownThisSession } }).why(1), layout.type).toBe('already shown this session');
  });
  it('a first display another tab claimed (time set, no display yet) is left for 10 s, unless the campaign shows on every page', () => {
    const claimed = (ago: number) => hist({ d: 0, l: Math.floor((NOW - ago) / 1000) });
    expect(run(undefined, claimed(2000)).why(1)).toBe('being shown in another tab');
    expect(run({ repeat: { every: 'days', n: 1 } }, claimed(9000)).why(1)).toBe('being shown in another tab');
    // Lapsed (that tab closed before painting), never claimed, or shown on every page anyway.
    expect(run(undefined, claimed(11_000)).ids).toEqual([1]);
    expect(run(undefined, hist({ d: 0, l: 0 })).ids).toEqual([1]);
    expect(run({ repeat: { every: 'page' } }, claimed(2000)).ids).toEqual([1]);
    expect(decide([campaign({ layout: { type: 'embed', selector: '#signup' } })], { history: { 1: claimed(2000) } }).ids).toEqual([1]);
    // Stop rules still come first.
    expect(run(undefined, { ...claimed(2000), c: 1 }).why(1)).toBe('stopped after a close');
  });
  it('every page: once per page view', () => {
    expect(run({ repeat: { every: 'page' } }, shownThisSession).ids).toEqual([1]);
    expect(run({ repeat: { every: 'page' } }, { ...shownThisSession, p: 12 }).why(1)).toBe('already shown this page');
  });
  it('every N days / minutes / pages', () => {
    expect(run({ repeat: { every: 'days', n: 7 } }, shownLastWeek).ids).toEqual([1]);
    expect(run({ repeat: { every: 'days', n: 8 } }, shownLastWeek).why(1)).toBe('already shown in the last 8 days');
    expect(run({ repeat: { every: 'minutes', n: 30 } }, hist({ d: 1, l: (NOW - 29 * 6e4) / 1000 })).why(1)).toBe('already shown in the last 30 minutes');
    expect(run({ repeat: { every: 'minutes', n: 30 } }, hist({ d: 1, l: (NOW - 30 * 6e4) / 1000 })).ids).toEqual([1]);
    expect(run({ repeat: { every: 'pages', n: 5 } }, shownLastWeek).ids).toEqual([1]);
    expect(run({ repeat: { every: 'pages', n: 5 } }, shownThisSession).why(1)).toBe('already shown in the last 5 pages');
  });
  it('a display dated after now (a clock since set back) holds nothing back; the stop rules and repeat: never still count it', () => {
    // Stamped while the visitor's clock ran a year ahead, read with the clock right again.
    const ahead = { d: 1, l: Math.floor((NOW + 365 * DAY) / 1000), p: 2 };
    expect(run(undefined, hist(ahead)).ids).toEqual([1]);
    expect(run({ repeat: { every: 'days', n: 7 } }, hist(ahead)).ids).toEqual([1]);
    expect(run({ repeat: { every: 'minutes', n: 30 } }, hist(ahead)).ids).toEqual([1]);
    expect(run(undefined, hist({ ...ahead, d: 0 })).ids).toEqual([1]);
    expect(run({ repeat: { every: 'never' } }, hist(ahead)).why(1)).toBe('already shown once (repeat: never)');
    expect(run({ stopAfter: { displays: 1 } }, hist(ahead)).why(1)).toBe('stopped after 1 displays');
  });
  it('never again after the first display', () => {
    expect(run({ repeat: { every: 'never' } }, shownLastWeek).why(1)).toBe('already shown once (repeat: never)');
    expect(run({ repeat: { every: 'never' } }, hist()).ids).toEqual([1]);
  });
  it('stops after a close and a sign-up by default, after a click or K displays when set', () => {
    const every = { every: 'page' } as const;
    expect(run({ repeat: every }, { ...shownLastWeek, c: 1 }).why(1)).toBe('stopped after a close');
    expect(run({ repeat: every }, { ...shownLastWeek, v: 1 }).why(1)).toBe('stopped after a sign-up');
    expect(run({ repeat: every, stopAfter: { close: false } }, { ...shownLastWeek, c: 1 }).ids).toEqual([1]);
    expect(run({ repeat: every, stopAfter: { signup: false } }, { ...shownLastWeek, v: 1 }).ids).toEqual([1]);
    expect(run({ repeat: every }, { ...shownLastWeek, k: 1 }).ids).toEqual([1]);
    expect(run({ repeat: every, stopAfter: { click: true } }, { ...shownLastWeek, k: 1 }).why(1)).toBe('stopped after a click');
    expect(run({ repeat: every, stopAfter: { displays: 3 } }, { ...shownLastWeek, d: 2 }).ids).toEqual([1]);
    expect(run({ repeat: every, stopAfter: { displays: 3 } }, { ...shownLastWeek, d: 3 }).why(1)).toBe('stopped after 3 displays');
  });
  it('the first failing rule is reported: schedule before frequency before targeting', () => {
    const c = campaign({ schedule: { days: [0] }, targeting: { type: 'signed_up', value: true } });
    expect(decide([c], { history: { 1: shownThisSession } }).why(1)).toMatch(/^schedule/);
    expect(decide([{ ...c, schedule: undefined }], { history: { 1: shownThisSession } }).why(1)).toBe('already shown this session');
    expect(decide([{ ...c, schedule: undefined }]).why(1)).toBe("signed up is false, needs true");
  });
});

describe('A/B variants and control group', () => {
  const content = (label: string) => ({ ...campaign().content, label });
  const ab = campaign({ variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 3, content: content('B') }], control: 20 });
  it('draws by weights after the control share, with the injected random', () => {
    const pick = (...rs: number[]) => {
      const r = decide([ab], {}, { random: () => rs.shift()! }).eligible[0];
      return [r.group, r.content.label];
    };
    expect(pick(0.1)).toEqual(['control', 'Welcome']);
    expect(pick(0.2, 0.2)).toEqual(['a', 'Welcome']);
    expect(pick(0.5, 0.25)).toEqual(['b', 'B']);
    expect(pick(0.5, 0.999999)).toEqual(['b', 'B']);
  });
  it('is stable: an existing group wins while it still exists', () => {
    const random = vi.fn(() => 0);
    const r = decide([ab], { history: { 1: hist({ g: 'b' }) } }, { random });
    expect(r.eligible[0].group).toBe('b');
    expect(random).not.toHaveBeenCalled();
    expect(decide([ab], { history: { 1: hist({ g: 'control' }) } }).eligible[0].group).toBe('control');
    // A variant removed (or weighted 0) since: drawn again.
    expect(decide([ab], { history: { 1: hist({ g: 'gone' }) } }, { random: () => 0.9 }).eligible[0]).toMatchObject({ group: 'b' });
    expect(decide([{ ...ab, control: 0 }], { history: { 1: hist({ g: 'control' }) } }, { random: () => 0.1 }).eligible[0]).toMatchObject({ group: 'a' });
  });
  it('a group drawn in this page is kept until shown: every evaluation and debug line names it', () => {
    let r = 0.1;
    const k = compile([ab], { log: vi.fn() });
    const first = evaluate(k, ctx(), () => r);
    expect(first.eligible[0].group).toBe('control');
    expect(first.debug[0].reason).toBe('group control');
    r = 0.9;
    expect(evaluate(k, ctx(), () => r).eligible[0].group).toBe('control');
    // What another tab stored since wins over this page's draw.
    expect(evaluate(k, ctx({ history: { 1: hist({ g: 'a' }) } }), () => r).eligible[0].group).toBe('a');
    // A draw that no longer names a group (the campaign set changed) is drawn again.
    const k2 = compile([{ ...ab, control: 0 }], { log: vi.fn() });
    k2.drawn[1] = 'control';
    expect(evaluate(k2, ctx(), () => r).eligible[0].group).toBe('b');
  });
  it('weights follow the distribution', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const n: Record<string, number> = {};
    // 4,000 draws: each share within 0.05 is over 6 standard deviations (and the seed is fixed);
    // 20,000 compiles took 5 s on a busy 2-core machine.
    for (let i = 0; i < 4000; i++) {
      // A new page each time: a compiled set keeps the group it drew.
      const g = evaluate(compile([ab], { log: vi.fn() }), ctx(), random).eligible[0].group!;
      n[g] = (n[g] ?? 0) + 1;
    }
    expect(n.control / 4000).toBeCloseTo(0.2, 1);
    expect(n.a / 4000).toBeCloseTo(0.2, 1);
    expect(n.b / 4000).toBeCloseTo(0.6, 1);
  });
  it('control without variants: the treatment is the default group; no test: no group', () => {
    expect(decide([campaign({ control: 50 })], {}, { random: () => 0.7 }).eligible[0]).toMatchObject({ group: DEFAULT_GROUP });
    expect(decide([campaign({ control: 50 })], {}, { random: () => 0.3 }).eligible[0]).toMatchObject({ group: 'control' });
    expect(decide([campaign()]).eligible[0]).toMatchObject({ group: undefined });
  });
});

describe('slots and priority', () => {
  it('slotOf', () => {
    expect(slotOf({ type: 'bar', position: 'top' })).toBe('bar');
    expect(slotOf({ type: 'popup' })).toBe('main');
    expect(slotOf({ type: 'slidein', position: 'bottom-left' })).toBe('main');
    expect(slotOf({ type: 'fullscreen' })).toBe('main');
    expect(slotOf({ type: 'embed', selector: '#a' })).toBe('embed:#a');
  });
  it('eligible campaigns and debug lines come best rank first (the engine gives each slot to the first): priority, then the lower id', () => {
    const r = decide([campaign({ id: 4 }), campaign({ id: 2, priority: 5 }), campaign({ id: 3 }), campaign({ id: 1, priority: -1 })]);
    expect(r.ids).toEqual([2, 3, 4, 1]);
    expect(r.debug.map((l) => [l.id, l.status])).toEqual([[2, 'eligible'], [3, 'eligible'], [4, 'eligible'], [1, 'eligible']]);
  });
});
