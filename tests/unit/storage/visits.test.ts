// Visits and sessions with a fake clock: the 2-hour cap (no idle rule), the last 10 visits, two tabs at once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Cookies from 'js-cookie';
import { createLog } from '../../../src/sdk/log';
import { createStore, type Store } from '../../../src/sdk/storage/store';
import { currentSession, readVisits, recordPageview } from '../../../src/sdk/storage/visits';

const SESSION = 'wisepops_session';
const VISITS = 'wisepops_visits';

const T0 = Date.UTC(2025, 2, 1, 9); // ms
const sec = () => Math.floor(Date.now() / 1000);
let store: Store;
/** A page view: the session and visits records as they are afterwards, with named fields. */
const view = (href = 'https://shop.example/a?utm_source=news&utm_campaign=spring', ref = 'https://google.com/') => {
  const [start, last, pageviews, landing, referrer, utm] = recordPageview(store, sec(), href, ref);
  const [first, total, times] = readVisits(store);
  return { session: { start, last, pageviews, landing, referrer, utm }, visits: { first, total, times } };
};
const minutes = (m: number) => vi.advanceTimersByTime(m * 60_000);

beforeEach(() => {
  for (const name of Object.keys(Cookies.get())) Cookies.remove(name, { path: '/' });
  vi.useFakeTimers({ now: T0 });
  store = createStore(createLog());
  store.configure({ storage: 'cookie', cookieExpiryDays: 730 }, true);
});
afterEach(() => vi.useRealTimers());

describe('sessions and visits', () => {
  it('the first page view starts a visit with landing page, referrer and UTM of that page', () => {
    const { session, visits } = view();
    expect(session).toEqual({
      start: T0 / 1000,
      last: T0 / 1000,
      pageviews: 1,
      landing: 'https://shop.example/a?utm_source=news&utm_campaign=spring',
      referrer: 'https://google.com/',
      utm: ['news', '', 'spring', '', ''],
    });
    expect(visits).toEqual({ first: T0 / 1000, total: 1, times: [T0 / 1000] });
    expect(Cookies.get(SESSION)).toBeDefined();
    expect(Cookies.get(VISITS)).toBe(`[1~${T0 / 1000}~1~[${T0 / 1000}]]`);
  });

  it('page views within 2 hours of the start stay in the visit, idle gaps included; the landing facts do not change', () => {
    view();
    // As Wisepops counts a visit (a session ends after 2 hours without a page view): 40 minutes
    // reading one article do not make a new visit.
    minutes(40);
    view('https://shop.example/a', '');
    minutes(79);
    const { session, visits } = view('https://shop.example/b?utm_source=other', 'https://shop.example/a');
    expect(session.pageviews).toBe(3);
    expect(session.utm[0]).toBe('news');
    expect(session.referrer).toBe('https://google.com/');
    expect(visits.times).toHaveLength(1);
    expect(visits.total).toBe(3);
  });

  it('a session that starts in the future (a clock set back since, a hand-edited cookie) is over: a new visit starts', () => {
    // Written while the device clock ran a year ahead; the clock is right again.
    const ahead = T0 / 1000 + 365 * 86400;
    Cookies.set(SESSION, `[1~${ahead}~${ahead}~3~'https://shop.example/'~''~[''~''~''~''~'']]`);
    const { session, visits } = view();
    expect(session).toMatchObject({ start: T0 / 1000, pageviews: 1 });
    expect(visits.times).toEqual([T0 / 1000]);
    // Stays over: the next page view is in the visit it started.
    minutes(1);
    expect(view().session).toMatchObject({ start: T0 / 1000, pageviews: 2 });
  });

  // Found by tests/unit/fuzz: the age was read as an unsigned 32-bit number, which wraps.
  it('however far in the future it starts, such a session is over', () => {
    for (const ahead of [T0 / 1000 + 2 ** 32, T0 / 1000 + 2 ** 32 + 600, 1e300]) {
      Cookies.set(SESSION, `[1~${ahead}~${ahead}~3~'https://shop.example/'~''~[''~''~''~''~'']]`);
      expect(view().session).toMatchObject({ start: T0 / 1000, pageviews: 1 });
    }
  });

  it('a page view more than 2 hours after the start of the visit starts a new one, with its own landing facts', () => {
    view();
    minutes(121);
    const { session, visits } = view('https://shop.example/c', '');
    expect(session.pageviews).toBe(1);
    expect(session.landing).toBe('https://shop.example/c');
    expect(session.utm).toEqual(['', '', '', '', '']);
    expect(visits.times).toEqual([T0 / 1000, T0 / 1000 + 121 * 60]);
    expect(visits.first).toBe(T0 / 1000);
    expect(visits.total).toBe(2);
  });


  it('the 2-hour cap: the first page view after 2 hours from the start opens a new visit', () => {
    view();
    for (let i = 0; i < 4; i++) {
      minutes(29);
      view();
    } // 116 minutes, still the same visit
    expect(readVisits(store)[2]).toHaveLength(1);
    minutes(5); // 121 minutes after the start, 5 after the last view
    const { session, visits } = view();
    expect(session.pageviews).toBe(1);
    expect(visits.times).toHaveLength(2);
    expect(currentSession(store, sec(), 'https://x.example/', '')[0]).toBe(sec());
  });

  it('keeps only the last 10 visit dates, oldest first, and never forgets the first visit', () => {
    for (let i = 0; i < 13; i++) {
      view();
      minutes(60 * 24);
    }
    const [first, total, times] = readVisits(store);
    expect(times).toHaveLength(10);
    expect(times[0]).toBe(T0 / 1000 + 3 * 86400);
    expect(times[9]).toBe(T0 / 1000 + 12 * 86400);
    expect(first).toBe(T0 / 1000);
    expect(total).toBe(13);
  });

  it('a dead session record is not returned as live: a new one starts from this page', () => {
    view();
    minutes(121);
    const s = currentSession(store, sec(), 'https://shop.example/next?utm_medium=mail', 'https://ref.example/');
    expect(s).toEqual([sec(), sec(), 0, 'https://shop.example/next?utm_medium=mail', 'https://ref.example/', ['', 'mail', '', '', '']]);
  });

  it('cuts very long landing URLs, referrers and UTM values so the session record always fits', () => {
    const long = 'https://shop.example/?utm_source=' + 'é'.repeat(3000) + '&utm_medium=' + 'x'.repeat(3000) + '&q=' + 'y'.repeat(5000);
    const { session } = view(long, 'https://ref.example/' + 'z'.repeat(5000));
    expect(Cookies.get(SESSION)).toBeDefined();
    // 300 bytes cookie-encoded, as measured (':' and '/' count as 3, though cookies carry them as is).
    expect(session.referrer).toBe('https://ref.example/' + 'z'.repeat(270));
    // é is 6 bytes cookie-encoded: 41 of them and the quotes in 250 bytes.
    expect(session.utm[0]).toBe('é'.repeat(41));
    expect(session.utm[1]).toBe('x'.repeat(248));
    // The landing URL takes what is left of the 1,200 bytes (394), its start kept: 91 characters,
    // most of them é.
    expect(session.landing).toBe(long.slice(0, 91));
    // The whole record, as stored: its share of the records' 5,000 bytes.
    expect(encodeURIComponent(Cookies.get(SESSION)!).length).toBeLessThan(1300);
    expect(currentSession(store, sec(), '', '')[2]).toBe(1);
  });

  it('keeps typical values whole: UTM values in other scripts, an ad click URL', () => {
    const campaign = ['Летняя распродажа 2024', '夏のセール2024キャンペーン', 'spring sale, 20% off: email #3 to subscribers (segment A)'];
    const ad = 'https://shop.example/collections/green-tea?utm_source=google&utm_medium=cpc&utm_campaign=' + encodeURIComponent(campaign[0]) + '&gclid=' + 'Cj0KCQiA'.repeat(12) + '&gad_source=1';
    for (const c of campaign) {
      const href = 'https://shop.example/?utm_campaign=' + encodeURIComponent(c);
      expect(currentSession(store, sec(), href, 'https://www.google.com/')[5][2]).toBe(c);
    }
    expect(currentSession(store, sec(), ad, 'https://www.google.com/')[3]).toBe(ad);
  });

  it("measures the cut as written: ' and ~ (swapped to \" and ,) take 3 bytes each", () => {
    // A crafted link: every field at its cap, in the characters the codec swaps.
    const utm = ['source', 'medium', 'campaign', 'term', 'content'].map((k) => `utm_${k}=` + '%27'.repeat(300)).join('&');
    const href = 'https://shop.example/' + '~'.repeat(800) + '?' + utm;
    view(href, 'https://ref.example/' + "'".repeat(800));
    expect(Cookies.get(SESSION)).toBeDefined();
    minutes(5);
    const { session, visits } = view(href, '');
    expect(session.pageviews).toBe(2);
    expect(visits.times).toHaveLength(1);
    expect(session.utm[0]).toBe("'".repeat(82));
  });
});

describe('two tabs recording a page view at the same moment (tabs the browser restores together)', () => {
  // The other tab's whole page view lands before each cookie read or write of this one's in
  // turn: the visit is counted once, and never lost.
  it.each([false, true])('returning visitor %s: one visit whatever the interleaving', (returning) => {
    const old = [T0 / 1000 - 86400 * 9, T0 / 1000 - 86400];
    const desc = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')!;
    for (let k = 0, ran = true; ran; k++) {
      for (const name of Object.keys(Cookies.get())) Cookies.remove(name, { path: '/' });
      if (returning) Cookies.set(VISITS, `[1~${old[0]}~7~[${old.join("~")}]]`);
      const other = createStore(createLog());
      other.configure({ storage: 'cookie', cookieExpiryDays: 730 }, true);
      let n = 0;
      ran = false;
      const before = () => n++ == k && ((ran = true), recordPageview(other, sec(), 'https://shop.example/b', ''));
      Object.defineProperty(document, 'cookie', {
        get: () => (before(), desc.get!.call(document)),
        set: (v) => (before(), desc.set!.call(document, v)),
        configurable: true,
      });
      recordPageview(store, sec(), 'https://shop.example/a', '');
      delete (document as { cookie?: string }).cookie;
      const [first, , times] = readVisits(store);
      expect({ k, first, times }).toEqual({ k, first: returning ? old[0] : sec(), times: returning ? [...old, sec()] : [sec()] });
    }
  });
});
