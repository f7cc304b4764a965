// Fuzz: the seven records, written as the SDK writes them, then one or two broken in place (random,
// corrupt, truncated, oversized, of another version or shape, in cookies or in Web Storage), then
// read by a new page, under the same storage option or the other one. Invariants: reading never
// throws; a broken record resets only itself (the others read back as written); every cookie
// written stays under 4,000 bytes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLog } from '../../../src/sdk/log';
import { decode, encode, like, Rec, swap } from '../../../src/sdk/storage/codec';
import { createStore, R, type Store, type StoreConfig } from '../../../src/sdk/storage/store';
import { readState, writeState, type State } from '../../../src/sdk/storage/state';
import { mergeProps, readProps } from '../../../src/sdk/storage/props';
import { currentSession, readVisits, recordPageview } from '../../../src/sdk/storage/visits';
import { install } from '../../../src/sdk/commands/install';
import type { Engine, EngineDeps } from '../../../src/sdk/engine/types';
import { clone, fuzz, mutate, ODD_NUMBERS, ODD_STRINGS, Rng, RUNS } from './gen';
import { randomProps } from './corpus';
import { clearRecords, plantCookie, unwatchCookies, watchCookies, written } from './cookies';

const NAME = ['wisepops', 'wisepops_visits', 'wisepops_props', 'wisepops_noshow', 'wisepops_session', 'wisepops_activity_session', 'wisepops_visitor'];
/** Each record's shape, as its reader asks for it. */
const SAMPLE: unknown[][] = [[0, [[0, 0, 0, 0, 0, 0, 0]]], [0, 0, [0]], [{}], [], [0, 0, 0, '', '', ['']], [''], ['']];
const ALL = [R.STATE, R.VISITS, R.PROPS, R.NOSHOW, R.SESSION, R.ACTIVITY, R.VISITOR];
const NOW = Math.floor(Date.UTC(2025, 5, 18, 12) / 1000);

beforeEach(() => {
  watchCookies();
  vi.useFakeTimers({ now: NOW * 1000, toFake: ['Date'] });
});
afterEach(() => {
  unwatchCookies();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Valid payloads for every record, as the SDK's writers would leave them. */
function payloads(r: Rng): unknown[][] {
  const t = () => r.pick([NOW, NOW - 60, NOW - 86400 * 30, 1, 0]);
  const str = () => r.pick(['', 'https://shop.test/a?utm_source=x', "it's \"quoted\", ~tilde~", 'é'.repeat(r.int(200)), '\uD800']);
  const history: State['history'] = {};
  for (let n = r.int(30); n--; ) history[1 + r.int(5000)] = { d: r.int(5), c: r.int(2), v: r.int(2), k: r.int(3), l: t(), p: r.int(50), ...(r.chance(0.5) ? { g: r.pick(['a', 'b', 'control', 'x'.repeat(64)]) } : {}) };
  return [
    [r.pick([0, 1, 2, 3, 5]), Object.entries(history).map(([id, h]) => [+id, h.d, h.c, h.v, h.k, h.l, h.p, ...(h.g ? [h.g] : [])])],
    [t(), r.int(1e6), Array.from({ length: r.int(11) }, t)],
    [mergeProps({}, randomProps(r), createLog())],
    [],
    [t(), t(), r.int(100), str(), str(), Array.from({ length: 5 }, str)],
    [r.pick(['', '{"1":[12]}', 'x'.repeat(300)])],
    [r.pick(['V1StGXR8_Z5jdHi6B-myT', 'abcdefghij'])],
  ];
}

/** A record broken in one of the ways a browser, an old version, another app or a person breaks it. */
function broken(r: Rng, raw: string): string {
  switch (r.int(10)) {
    case 0:
      return raw.slice(0, r.int(raw.length));
    case 1:
      return r.pick(ODD_STRINGS);
    case 2:
      return raw.replace(/^\[1/, r.pick(['[2', '[0', "['1'", '[1.0', '[null']));
    case 3: {
      // Decoded, mutated (still JSON: it may keep its shape), encoded again.
      const p = decode(raw);
      return p ? encode(mutate(clone(p), r, { strings: ODD_STRINGS, keys: ['a', '0', 'length'], numbers: ODD_NUMBERS.filter((n) => isFinite(n)) }, 1 + r.int(3), true)) : raw;
    }
    case 4:
      // Oversized: valid otherwise.
      return raw.replace(/\]$/, '~' + JSON.stringify('x'.repeat(4000)).replace(/"/g, "'") + ']');
    case 5:
      return r.pick(['{"csd":1,"popins":{}}', encodeURIComponent('["2024-05-10T09:15:32.123Z"]'), 'null', '[]', '[1]', '1', 'true', '""']);
    case 6:
      return swap(raw);
    case 7:
      return raw + r.pick(['~', ']', '~1', '%', '%E0%A4%A', '\\']);
    case 8:
      return encode([...(decode(raw) || []), ...Array.from({ length: r.int(3) }, () => r.pick([null, {}, [], 'x', -1, 1e308]))]);
    default:
      return r.pick(['[1~' + '1~'.repeat(2100) + '1]', '[1~' + '['.repeat(1500) + ']'.repeat(1500) + ']', 'x'.repeat(r.pick([4001, 70_000]))]);
  }
}

/** Puts `raw` where the record lives under `cfg` (or, `other`, in the other place), as an outside hand would. */
function plant(i: number, raw: string, cfg: StoreConfig, consent: boolean, r: Rng, other: boolean) {
  const name = NAME[i];
  if ((cfg.storage == 'localStorage') != other) {
    // Where the record lives (sessionStorage's copy would win over localStorage's), or anywhere.
    const s = (other ? r.chance(0.5) : consent && i < R.SESSION) ? localStorage : sessionStorage;
    s.setItem(name, r.pick([`${NOW + 3600} `, '0 ', `${NOW - 10} `, 'x ', '', '-1 ', '1e400 ']) + raw);
  } else plantCookie(`${name}=${r.chance(0.8) && !/[\uD800-\uDFFF]/.test(raw) ? encodeURIComponent(raw) : raw}; path=/`);
}

/** Every record through its reader: the payload, or undefined. */
const readAll = (store: Store) => ALL.map((i) => store.read(i, SAMPLE[i]));

/** Reads through the SDK's own readers too: none may throw. */
function readers(store: Store) {
  readState(store);
  readVisits(store);
  readProps(store);
  currentSession(store, NOW, 'https://shop.test/?utm_source=x', 'https://ref.test/');
  store.one(R.ACTIVITY, '');
  store.one(R.VISITOR, '');
}

describe('fuzz: broken records', () => {
  it('reading never throws, a broken record resets only itself, and every cookie stays under 4,000 bytes', () => {
    const fails = fuzz(
      'records',
      300,
      (r) => {
        const cfg: StoreConfig = { storage: r.pick(['cookie', 'localStorage']), cookieExpiryDays: 730 };
        const next: StoreConfig = r.chance(0.7) ? cfg : { ...cfg, storage: cfg.storage == 'cookie' ? 'localStorage' : 'cookie' };
        const broke = [r.pick(ALL), ...(r.chance(0.2) ? [r.pick(ALL)] : [])];
        return { cfg, next, consent: r.chance(0.8), values: payloads(r), broke, how: broke.map(() => r.int(1e9)), other: r.chance(0.15) };
      },
      ({ cfg, next, consent, values, broke, how, other }) => {
        clearRecords();
        const first = createStore(createLog());
        first.configure(cfg, consent);
        ALL.forEach((i) => first.write(i, values[i]));
        const before = readAll(first);
        const raws = new Map<number, string>();
        broke.forEach((i, n) => {
          const rng = new Rng(how[n]);
          const raw = broken(rng, encode(values[i]));
          raws.set(i, raw);
          plant(i, raw, cfg, consent, rng, other);
        });
        // A new page: it configures its store (moving the records when the option changed), then reads.
        const store = createStore(createLog());
        store.configure(next, consent);
        readers(store);
        const after = readAll(store);
        // A copy planted in the place the new page does not use loses to the record written in the
        // place it does; anywhere else it is the record (it took the only copy's place).
        const loses = other && next.storage == cfg.storage;
        ALL.forEach((i) => {
          const planted = raws.get(i);
          if (planted === undefined || loses) {
            // Intact: read back as written. A losing copy may still be the only one, when the
            // record was not stored at all (the visitor id without consent).
            if (planted === undefined || before[i] !== undefined) expect([NAME[i], after[i]]).toEqual([NAME[i], before[i]]);
          } else if (i == R.NOSHOW) {
            // Any value of the opt-out counts (a Wisepops visitor's too), unless expired.
            expect(after[i] === undefined || after[i]!.length === 0).toBe(true);
          } else {
            // Broken: read as its shape allows (what was planted, or the copy it did not replace when
            // it had expired), or else reset (nothing left to read).
            const p = decode(planted);
            const from = JSON.stringify(after[i]) == JSON.stringify(before[i]) || p !== undefined;
            if (after[i] !== undefined) expect([NAME[i], like(after[i], SAMPLE[i]), from, planted.slice(0, 80)]).toEqual([NAME[i], true, true, planted.slice(0, 80)]);
            else expect([NAME[i], store.read(i, SAMPLE[i])]).toEqual([NAME[i], undefined]);
          }
        });
        // Written since (page views, moves): every cookie under the limit.
        recordPageview(store, NOW + 5, 'https://shop.test/?utm_source=' + 'é'.repeat(500), 'https://ref.test/' + 'r'.repeat(2000));
        writeState(store, readState(store));
        expect(written.filter(([, size]) => size >= Rec.MAX_BYTES)).toEqual([]);
      },
    );
    expect(fails).toEqual([]);
  }, 30_000 * RUNS);

  it("a session record is live only from its start to 2 hours after: one that starts later (a clock that ran ahead, a hand-edited record) is over", () => {
    const fails = fuzz(
      'session',
      300,
      (r) => r.pick([NOW, NOW - 7200, NOW - 7201, NOW + 1, NOW + 7200, NOW + 2 ** 32, NOW + 2 ** 32 + 100, NOW + 3 * 2 ** 32, 2 ** 53, 1e21, 1e300, 0, r.int(2 ** 33), NOW + r.int(2 ** 40)]),
      (start) => {
        clearRecords();
        const store = createStore(createLog());
        store.configure({ storage: 'cookie', cookieExpiryDays: 730 }, true);
        store.write(R.SESSION, [start, start, 3, 'https://shop.test/', '', ['', '', '', '', '']]);
        const s = currentSession(store, NOW, 'https://shop.test/', '');
        expect([start, s[0] === start]).toEqual([start, NOW >= start && NOW - start <= 7200]);
      },
    );
    expect(fails).toEqual([]);
  });

  it('a page starting on broken records (the command layer, every record): nothing throws and the intact records hold', () => {
    const fails = fuzz(
      'page',
      120,
      (r) => ({ values: payloads(r), broke: r.pick(ALL), seed: r.int(1e9), storage: r.pick(['cookie', 'localStorage']) }),
      ({ values, broke, seed, storage }) => {
        clearRecords();
        document.head.innerHTML = '<script src="https://popups.example.com/js/poplet.js?site=abc"></script>';
        const w = window as unknown as Record<string, unknown>;
        delete w.wisepops;
        const cfg = { storage, cookieExpiryDays: 730 };
        const first = createStore(createLog());
        first.configure(cfg, true);
        ALL.forEach((i) => first.write(i, values[i]));
        const rng = new Rng(seed);
        plant(broke, broken(rng, encode(values[broke])), cfg, true, rng, false);
        let deps: EngineDeps | undefined;
        const engine = (d: EngineDeps): Engine => ((deps = d), { pageview() {}, event() {}, refresh() {}, debug: () => [], goal() {} });
        w.wisepops = Object.assign(() => {}, { q: [['options', { storage }]] });
        install(window, engine);
        const x = deps!.context();
        if (broke != R.PROPS) expect(x.props).toEqual(clone(values[R.PROPS][0]));
        if (broke != R.NOSHOW) expect(x.noshow).toBe(true);
        if (broke != R.STATE) expect(Object.keys(x.history).length).toBe((values[R.STATE][1] as unknown[]).filter((e) => (e as unknown[])[0] as number > 0).length);
        // A consent denied (flag 4) in the state record, as read, means no analytics id at all.
        const denied = ((createStore(createLog()).peek(R.STATE, cfg) || [0])[0] as number) & 4;
        if (broke != R.VISITOR) expect(deps!.visitorId()).toBe(denied ? undefined : values[R.VISITOR][0]);
        if (broke != R.VISITS) expect(x.firstVisit).toBe((values[R.VISITS][0] as number) * 1000 || x.firstVisit);
        expect(written.filter(([, size]) => size >= Rec.MAX_BYTES)).toEqual([]);
        expect((w.wisepops as (...a: unknown[]) => unknown)('debug')).toBeDefined();
      },
    );
    expect(fails).toEqual([]);
  }, 30_000 * RUNS);
});
