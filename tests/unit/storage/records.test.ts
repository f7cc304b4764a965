// The seven records: encoding, corruption, size cap, backends, moves and consent.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Cookies from 'js-cookie';
import { createLog } from '../../../src/sdk/log';
import { decode, encode, Rec } from '../../../src/sdk/storage/codec';
import { createStore, R, type StoreConfig } from '../../../src/sdk/storage/store';
import { readState, writeState, type State } from '../../../src/sdk/storage/state';
import { mergeProps, readProps } from '../../../src/sdk/storage/props';

// Record indexes and the names they must carry (the Wisepops names).
const STATE = R.STATE, VISITS = R.VISITS, PROPS = R.PROPS, NOSHOW = R.NOSHOW, SESSION = R.SESSION, ACTIVITY = R.ACTIVITY, VISITOR = R.VISITOR;
const NAME = ['wisepops', 'wisepops_visits', 'wisepops_props', 'wisepops_noshow', 'wisepops_session', 'wisepops_activity_session', 'wisepops_visitor'];
const ALL = [STATE, VISITS, PROPS, NOSHOW, SESSION, ACTIVITY, VISITOR];
const cookie: StoreConfig = { storage: 'cookie', cookieExpiryDays: 730 };
const local: StoreConfig = { storage: 'localStorage', cookieExpiryDays: 730 };
/** A store configured as a page starts one. */
const open = (cfg: StoreConfig, consent = true, log = createLog()) => {
  const store = createStore(log);
  store.configure(cfg, consent);
  return store;
};

function clearAll() {
  for (const name of Object.keys(Cookies.get())) Cookies.remove(name, { path: '/' });
  localStorage.clear();
  sessionStorage.clear();
}
/** What document.cookie shows, raw (still percent-encoded). */
const rawCookie = (name: string) => document.cookie.split('; ').find((c) => c.startsWith(name + '='))?.slice(name.length + 1);

beforeEach(clearAll);
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('codec', () => {
  it('round-trips any JSON payload, including quotes, commas and tildes in strings', () => {
    const payload = [{ a: 'it\'s "quoted", with ~tilde~ and ünïcode 🎉', n: [1, 2.5, -3], t: true, z: null }];
    expect(decode(encode(payload))).toEqual(payload);
  });
  it('writes no characters that cookies must percent-encode for plain data', () => {
    const raw = encode([1700000000, 3, [1700000000, 1700003600], 'abc']);
    expect(raw).toBe("[1~1700000000~3~[1700000000~1700003600]~'abc']");
    expect(encodeURIComponent(raw).replace(/%(5B|5D|7E)/g, 'x').length).toBe(raw.length);
  });
  it('rejects truncated, foreign, other-version and oversized text', () => {
    expect(decode('[1~2')).toBeUndefined();
    expect(decode('{"csd":1,"popins":{}}')).toBeUndefined();
    expect(decode('[2~1]')).toBeUndefined();
    expect(decode('null')).toBeUndefined();
    expect(decode("[1~'" + 'x'.repeat(Rec.MAX_BYTES - 11) + "']")).toEqual(['x'.repeat(Rec.MAX_BYTES - 11)]);
    expect(decode("[1~'" + 'x'.repeat(Rec.MAX_BYTES) + "']")).toBeUndefined();
  });
  it('keeps every record under 4,000 bytes: exactly 4,000 is too many', () => {
    // "[1~'" + x + "']" is 10 bytes cookie-encoded ([ and ] are percent-encoded) plus x.
    const raw = (n: number) => encode(['x'.repeat(n)]);
    expect(encodeURIComponent(raw(Rec.MAX_BYTES - 10)).length).toBe(Rec.MAX_BYTES);
    expect(decode(raw(Rec.MAX_BYTES - 10))).toBeUndefined();
    expect(decode(raw(Rec.MAX_BYTES - 11))).toEqual(['x'.repeat(Rec.MAX_BYTES - 11)]);
    const store = open(cookie);
    expect(store.write(PROPS, ['x'.repeat(Rec.MAX_BYTES - 10)])).toBe(false);
    expect(store.write(PROPS, ['x'.repeat(Rec.MAX_BYTES - 11)])).toBe(true);
  });
});

describe('cookie backend', () => {
  it('writes each record under its Wisepops name and reads it back', () => {
    const store = open(cookie);
    store.write(VISITS, [1700000000, 4, [1700000000]]);
    expect(Cookies.get(NAME[VISITS])).toBe('[1~1700000000~4~[1700000000]]');
    expect(store.read(VISITS, [0, 0, [0]])).toEqual([1700000000, 4, [1700000000]]);
  });

  it('sets path=/, SameSite=Lax, the configured domain and expiry in days; session records get no expiry', () => {
    const writes: string[] = [];
    const desc = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')!;
    vi.spyOn(Document.prototype, 'cookie', 'set').mockImplementation((v: string) => {
      writes.push(v);
      desc.set!.call(document, v);
    });
    vi.useFakeTimers({ now: Date.UTC(2025, 0, 1) });
    const store = open({ ...cookie, cookieExpiryDays: 30, cookieDomain: 'example.com' });
    store.write(PROPS, [{ plan: 'gold' }]);
    store.write(SESSION, [1, 1, 1, 'u', '', ['', '', '', '', '']]);
    const props = writes.find((w) => w.startsWith(NAME[PROPS] + '='))!;
    expect(props).toContain('; path=/');
    expect(props).toContain('; sameSite=Lax');
    expect(props).toContain('; domain=example.com');
    expect(props).toContain('; expires=' + new Date(Date.UTC(2025, 0, 31)).toUTCString());
    expect(props).not.toContain('secure');
    const session = writes.find((w) => w.startsWith(NAME[SESSION] + '='))!;
    expect(session).toContain('; path=/');
    expect(session).not.toContain('expires');
  });

  it('expires persistent cookies after cookieExpiryDays', () => {
    vi.useFakeTimers({ now: Date.UTC(2025, 0, 1) });
    const store = open({ ...cookie, cookieExpiryDays: 2 });
    store.write(NOSHOW, []);
    vi.setSystemTime(Date.UTC(2025, 0, 2, 23));
    expect(store.read(NOSHOW, [])).toEqual([]);
    vi.setSystemTime(Date.UTC(2025, 0, 3, 1));
    expect(store.read(NOSHOW, [])).toBeUndefined();
  });
});

describe('bad records reset only themselves', () => {
  const cases: Array<[string, string]> = [
    ['corrupt', 'not json at all'],
    ['truncated', '[1~1700000000~4~[17000'],
    ['foreign format (Wisepops JSON)', encodeURIComponent('["2024-05-10T09:15:32.123Z"]')],
    ['other version', '[9~1~2~[3]]'],
    ['wrong shape', "[1~'a'~2~[3]]"],
    ['oversized', '[1~' + '1~'.repeat(2100) + '1]'],
  ];
  for (const [what, value] of cases) {
    it(`${what}: logged, deleted, others untouched`, () => {
      const log = createLog(true);
      const spy = vi.spyOn(console, 'log').mockImplementation(() => {});
      const store = open(cookie, true, log);
      store.write(PROPS, [{ keep: 1 }]);
      document.cookie = `${NAME[VISITS]}=${value}; path=/`;
      const visits = store.read(VISITS, [0, 0, [0]]);
      expect(visits).toBeUndefined();
      expect(Cookies.get(NAME[VISITS])).toBeUndefined();
      expect(readProps(store)).toEqual({ keep: 1 });
      expect(spy.mock.calls.some((c) => String(c[0]).includes(`record reset: ${NAME[VISITS]}`))).toBe(true);
    });
  }

  it('a bad campaign entry resets the state record to empty', () => {
    document.cookie = `${NAME[STATE]}=${"[1~0~[[5~1~0~0~0~1700000000~3]~[6~'x']]]"}; path=/`;
    const store = open(cookie);
    expect(readState(store)).toEqual({ signedUp: false, granted: undefined, history: {} });
    expect(Cookies.get(NAME[STATE])).toBeUndefined();
  });

  // Found by tests/unit/fuzz: configure() moved every record as it found it, whatever its size.
  it('a record over 4,000 bytes is never written back when a page moves the records (a cookie, or Web Storage into cookies)', () => {
    const big = "[1~'" + 'x'.repeat(4050) + "']";
    open(cookie).write(VISITS, [1700000000, 4, [1700000000]]);
    document.cookie = `${NAME[ACTIVITY]}=${big}; path=/`;
    localStorage.setItem(NAME[PROPS], '0 ' + big);
    const writes: string[] = [];
    const desc = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')!;
    vi.spyOn(Document.prototype, 'cookie', 'set').mockImplementation((v: string) => {
      writes.push(v.split(';')[0]);
      desc.set!.call(document, v);
    });
    const store = open(cookie);
    expect(writes.filter((w) => w.length > Rec.MAX_BYTES)).toEqual([]);
    expect([store.one(ACTIVITY, ''), readProps(store), localStorage.getItem(NAME[PROPS])]).toEqual([undefined, {}, null]);
    expect(store.read(VISITS, [0, 0, [0]])).toEqual([1700000000, 4, [1700000000]]);
  });

  it('refuses any write over 4,000 bytes', () => {
    const store = open(cookie);
    expect(store.write(PROPS, [{ big: 'x'.repeat(3990) }])).toBe(false);
    expect(Cookies.get(NAME[PROPS])).toBeUndefined();
    expect(store.write(PROPS, [{ big: 'x'.repeat(3900) }])).toBe(true);
  });
});

describe('persistent state (wisepops)', () => {
  it('stores history and A/B group compactly and reads it back', () => {
    const store = open(cookie);
    const s: State = { signedUp: true, history: { 12: { d: 2, c: 1, v: 0, k: 3, l: 1700000000, p: 7, g: 'b' } } };
    writeState(store, s);
    expect(Cookies.get(NAME[STATE])).toBe("[1~1~[[12~2~1~0~3~1700000000~7~'b']]]");
    expect(readState(store)).toEqual({ ...s, granted: undefined });
    // The consent remembered rides in the first item, beside signed-up: 2 granted, 4 denied.
    writeState(store, s, true);
    expect(Cookies.get(NAME[STATE])).toBe("[1~3~[[12~2~1~0~3~1700000000~7~'b']]]");
    expect(readState(store)).toEqual({ ...s, granted: true });
    writeState(store, s, false);
    expect(Cookies.get(NAME[STATE])).toBe("[1~5~[[12~2~1~0~3~1700000000~7~'b']]]");
    expect(readState(store)).toEqual({ ...s, granted: false });
  });

  it('drops only the entries an event could not carry (a hand-edited cookie), keeping the others', () => {
    const bad = ["[0~1~0~0~0~1~1]", "[1.5~1~0~0~0~1~1]", `[3~1~0~0~0~1~1~'${'g'.repeat(65)}']`, "[4~1~0~0~0~1~1~{}]", "[5~1~0~0~0~1~1~'\\ud800']"];
    document.cookie = `${NAME[STATE]}=${encodeURIComponent(`[1~1~[${bad.join('~')}~[7~2~0~0~0~1700000000~3~'b']]]`)}; path=/`;
    const store = open(cookie);
    expect(readState(store)).toEqual({ signedUp: true, granted: undefined, history: { 7: { d: 2, c: 0, v: 0, k: 0, l: 1700000000, p: 3, g: 'b' } } });
  });

  it('round-trips entries with and without a group: record -> history -> the same record, in eviction order', () => {
    // 12 was closed, so it ranks as seen a year later than its last display (see the eviction tests).
    const raw = "[1~0~[[12~2~1~0~3~1700000000~7~'b']~[13~1~0~0~0~1700000009~8]]]";
    document.cookie = `${NAME[STATE]}=${raw}; path=/`;
    const store = open(cookie);
    const s = readState(store);
    // No group key at all for 13 (not g: undefined, which a later write would have to skip).
    expect(s.history).toEqual({ 12: { d: 2, c: 1, v: 0, k: 3, l: 1700000000, p: 7, g: 'b' }, 13: { d: 1, c: 0, v: 0, k: 0, l: 1700000009, p: 8 } });
    expect('g' in s.history[13]).toBe(false);
    Cookies.remove(NAME[STATE], { path: '/' });
    writeState(store, s);
    expect(Cookies.get(NAME[STATE])).toBe(raw);
  });

  it('evicts the least recently seen campaigns first to stay under its 2,000 bytes', () => {
    const store = open(cookie);
    const history: State['history'] = {};
    for (let id = 1; id <= 300; id++) history[id] = { d: 1, c: 0, v: 0, k: 0, l: 1700000000 + id, p: 1 };
    writeState(store, { signedUp: false, history });
    expect(encodeURIComponent(rawCookie(NAME[STATE])!).length).toBeLessThan(Rec.STATE_BYTES);
    expect(encodeURIComponent(rawCookie(NAME[STATE])!).length).toBeGreaterThan(Rec.STATE_BYTES - 40);
    const kept = Object.keys(readState(store).history).map(Number);
    expect(kept.length).toBeGreaterThan(60);
    expect(kept.length).toBeLessThan(300);
    // the survivors are exactly the most recently seen ones
    expect(Math.min(...kept)).toBe(300 - kept.length + 1);
    expect(Object.keys(history).length).toBe(kept.length);
  });
});

describe('eviction keeps what a stop rule needs', () => {
  const full = () => {
    const history: State['history'] = {};
    for (let id = 1; id <= 300; id++) history[id] = { d: 1, c: 0, v: 0, k: 0, l: 1700000000 + id * 60, p: 1 };
    return history;
  };
  const keptAfter = (history: State['history']) => {
    const store = open(cookie);
    writeState(store, { signedUp: false, history });
    return Object.keys(readState(store).history).map(Number);
  };

  it('a campaign closed, signed up to or clicked long ago outlives newer campaigns only displayed', () => {
    const history = full();
    // Stopped after a close, a sign-up, a click: never displayed again, so their dates are the oldest.
    history[1] = { d: 1, c: 1, v: 0, k: 0, l: 1690000000, p: 1 };
    history[2] = { d: 1, c: 0, v: 1, k: 0, l: 1690000000, p: 1 };
    history[3] = { d: 1, c: 0, v: 0, k: 1, l: 1690000000, p: 1 };
    const kept = keptAfter(history);
    expect(kept).toEqual(expect.arrayContaining([1, 2, 3, 300]));
    expect(kept).not.toContain(4);
  });

  it('but not forever: one closed over a year before the others were displayed goes first', () => {
    const history = full();
    history[1] = { d: 1, c: 1, v: 0, k: 0, l: 1700000000 - 400 * 86400, p: 1 };
    expect(keptAfter(history)).not.toContain(1);
  });
});

describe('properties record', () => {
  it('deep merges, null deletes at any depth', () => {
    const a = mergeProps({ user: { plan: 'gold', age: 3 }, x: 1 }, { user: { age: null, tier: 2 }, x: null }, createLog());
    expect(a).toEqual({ user: { plan: 'gold', tier: 2 } });
  });
});

describe('localStorage mode', () => {
  it('keeps persistent records in localStorage with a stored expiry, session ones in sessionStorage', () => {
    vi.useFakeTimers({ now: Date.UTC(2025, 0, 1) });
    const store = open({ ...local, cookieExpiryDays: 10 });
    store.write(PROPS, [{ a: 1 }]);
    store.write(SESSION, [1, 1, 1, 'u', '', ['', '', '', '', '']]);
    expect(localStorage.getItem(NAME[PROPS])).toBe(`${Date.UTC(2025, 0, 11) / 1000} [1~{'a':1}]`);
    expect(sessionStorage.getItem(NAME[SESSION])).toMatch(/^0 \[1~/);
    expect(document.cookie).toBe('');
    vi.setSystemTime(Date.UTC(2025, 0, 10));
    expect(readProps(store)).toEqual({ a: 1 });
    vi.setSystemTime(Date.UTC(2025, 0, 11, 0, 0, 1));
    expect(readProps(store)).toEqual({});
    expect(localStorage.getItem(NAME[PROPS])).toBeNull();
  });

  it('a malformed Web Storage entry reads as absent and is removed', () => {
    localStorage.setItem(NAME[PROPS], 'garbage');
    const store = open(local);
    expect(readProps(store)).toEqual({});
    expect(localStorage.getItem(NAME[PROPS])).toBeNull();
  });

  it('switching cookie → localStorage → cookie moves every record', () => {
    const store = open(cookie);
    for (const n of ALL) store.write(n, [NAME[n]]);
    store.configure(local, true);
    expect(document.cookie).toBe('');
    // The opt-out is moved as what it means: any value of it is an opt-out, `[1]`.
    const moved = ALL.filter((n) => n != NOSHOW);
    for (const n of moved) expect(store.one(n, '')).toBe(NAME[n]);
    expect(store.read(NOSHOW, [])).toEqual([]);
    expect(localStorage.getItem(NAME[PROPS])).toContain(NAME[PROPS]);
    expect(sessionStorage.getItem(NAME[VISITOR])).toContain(NAME[VISITOR]);
    store.configure(cookie, true);
    expect(localStorage.length + sessionStorage.length).toBe(0);
    for (const n of moved) expect(Cookies.get(NAME[n])).toBe(`[1~'${NAME[n]}']`);
    expect(Cookies.get(NAME[NOSHOW])).toBe('[1]');
  });

  it('records are named by the global: wisepops* by default, PREFIX* otherwise', () => {
    const store = createStore(createLog(), 'poplet2');
    store.configure(cookie, true);
    for (const n of ALL) store.write(n, [1]);
    expect(Object.keys(Cookies.get()).sort()).toEqual(NAME.map((s) => s.replace('wisepops', 'poplet2')).sort());
  });

  it('a new page with the other storage option picks up the records left by the last one', () => {
    open(cookie).write(PROPS, [{ a: 1 }]);
    const store = open(local);
    expect(readProps(store)).toEqual({ a: 1 });
    expect(Cookies.get(NAME[PROPS])).toBeUndefined();
  });

  it('a broken copy where the records move to does not beat a good one where they were: the good one moves', () => {
    open(cookie).write(PROPS, [{ a: 1 }]);
    localStorage.setItem(NAME[PROPS], '0 [1~{truncat');
    const store = open(local);
    expect(readProps(store)).toEqual({ a: 1 });
    expect(Cookies.get(NAME[PROPS])).toBeUndefined();
    // Both broken: one copy is kept (and reset when read), the other goes.
    Cookies.set(NAME[PROPS], '[1~{also');
    localStorage.setItem(NAME[PROPS], '0 [1~{truncat');
    open(local);
    expect(Cookies.get(NAME[PROPS])).toBeUndefined();
  });

  it('blocked storage never throws', () => {
    vi.spyOn(Storage.prototype, 'getItem').mockImplementation(() => {
      throw new DOMException('blocked', 'SecurityError');
    });
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('blocked', 'SecurityError');
    });
    const store = open(local);
    expect(store.write(PROPS, [{ a: 1 }])).toBe(false);
    expect(readProps(store)).toEqual({});
  });

  it('a write the storage refuses (quota) keeps the record as it was and reports false', () => {
    const log = createLog(true);
    const spy = vi.spyOn(console, 'log').mockImplementation(() => {});
    const store = open(local, true, log);
    store.write(PROPS, [{ a: 1 }]);
    const setItem = vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError');
    });
    expect(store.write(PROPS, [{ a: 2 }])).toBe(false);
    setItem.mockRestore();
    expect(readProps(store)).toEqual({ a: 1 });
    expect(spy.mock.calls.some((c) => String(c[0]).includes(`${NAME[PROPS]}: not saved`))).toBe(true);
  });

  it('moving the records into a full localStorage loses none: they stay where they were until a move succeeds', () => {
    const store = open(cookie);
    store.write(PROPS, [{ plan: 'pro' }]);
    store.write(NOSHOW, []);
    const setItem = vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError');
    });
    store.configure(local, true);
    expect(Cookies.get(NAME[PROPS])).toBe("[1~{'plan':'pro'}]");
    expect(Cookies.get(NAME[NOSHOW])).toBe('[1]');
    setItem.mockRestore();
    // Room again: the next page moves them.
    const next = open(local);
    expect(readProps(next)).toEqual({ plan: 'pro' });
    expect(next.read(NOSHOW, [])).toEqual([]);
    expect(Cookies.get(NAME[PROPS])).toBeUndefined();
  });

  it('consent granted in localStorage mode while localStorage is full: the records stay in sessionStorage, readable', () => {
    const store = open(local, false);
    store.write(PROPS, [{ plan: 'pro' }]);
    expect(sessionStorage.getItem(NAME[PROPS])).toContain('pro');
    const real = Storage.prototype.setItem;
    const setItem = vi.spyOn(Storage.prototype, 'setItem').mockImplementation(function (this: Storage, k: string, v: string) {
      if (this === localStorage) throw new DOMException('full', 'QuotaExceededError');
      real.call(this, k, v);
    });
    store.configure(local, true);
    setItem.mockRestore();
    expect(readProps(store)).toEqual({ plan: 'pro' });
  });

  it('a refused write of the wisepops record evicts nothing from the state it was given', () => {
    const store = open(local);
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError');
    });
    const s: State = { signedUp: false, history: { 1: { d: 1, c: 0, v: 0, k: 0, l: 1, p: 1 }, 2: { d: 1, c: 0, v: 0, k: 0, l: 2, p: 1 } } };
    writeState(store, s);
    expect(Object.keys(s.history)).toEqual(['1', '2']);
  });
});

describe('consent', () => {
  function persisted(name: number): boolean {
    // Persistent cookies survive the end of the browser session: simulate it by checking
    // whether the cookie carries an expiry through a write spy.
    const last = writes.filter((w) => w.startsWith(NAME[name] + '=')).pop()!;
    const exp = /expires=([^;]+)/.exec(last)?.[1];
    return !!exp && Date.parse(exp) > Date.now();
  }
  let writes: string[] = [];
  beforeEach(() => {
    writes = [];
    const desc = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')!;
    vi.spyOn(Document.prototype, 'cookie', 'set').mockImplementation((v: string) => {
      writes.push(v);
      desc.set!.call(document, v);
    });
  });

  it('denied: every record is session-only and there is no analytics id; granted: persistent; denied again: back', () => {
    const store = open(cookie, false);
    for (const n of ALL) store.write(n, [NAME[n]]);
    expect(Cookies.get(NAME[VISITOR])).toBeUndefined();
    for (const n of ALL) expect(persisted(n)).toBe(false);
    expect(Cookies.get(NAME[PROPS])).toBeDefined();

    writes = [];
    store.configure(cookie, true);
    for (const n of [STATE, VISITS, PROPS, NOSHOW]) expect(persisted(n)).toBe(true);
    for (const n of [SESSION, ACTIVITY]) expect(persisted(n)).toBe(false);
    store.write(VISITOR, ['abc']);
    expect(Cookies.get(NAME[VISITOR])).toBeDefined();

    writes = [];
    store.configure(cookie, false);
    expect(Cookies.get(NAME[VISITOR])).toBeUndefined();
    expect(Cookies.get(NAME[PROPS])).toBe(`[1~'${NAME[PROPS]}']`);
    for (const n of ALL) expect(persisted(n)).toBe(false);
  });

  it('denied in localStorage mode keeps even persistent records in sessionStorage', () => {
    const store = open(local, false);
    store.write(PROPS, [{ a: 1 }]);
    expect(localStorage.getItem(NAME[PROPS])).toBeNull();
    expect(sessionStorage.getItem(NAME[PROPS])).toContain("{'a':1}");
  });
});
