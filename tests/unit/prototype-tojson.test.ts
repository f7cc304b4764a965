// A page with Prototype.js 1.6's Array.prototype.toJSON, which returns a string: everything
// Poplet stores or sends must still hold real arrays, and the page must keep its toJSON as it was.
// The page's toJSON is put in place only around the code under test: vitest itself may talk JSON.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stringify } from '../../src/sdk/json';
import { decode, encode } from '../../src/sdk/storage/codec';
import { createStore, R } from '../../src/sdk/storage/store';
import { readState, writeState } from '../../src/sdk/storage/state';
import { sendNow } from '../../src/sdk/collect/send-now';
import { createTracker } from '../../src/sdk/collect/tracker';
import { createOutbox } from '../../src/sdk/collect/outbox';
import { OUTBOX_KEY } from '../../src/sdk/collect/contract';
import { armTriggers } from '../../src/sdk/triggers';
import { fakeNet } from './collect/fake-net';
import vm from 'node:vm';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** Prototype.js 1.6: `Array.prototype.toJSON = function () { … return '[' + results.join(', ') + ']' }`, enumerable. */
function prototypeJs(this: unknown[]): string {
  return '[' + this.map((v) => JSON.stringify(v)).join(', ') + ']';
}
const a = Array.prototype as { toJSON?: unknown };

/** Runs `f` on a page with Prototype's toJSON (or the one described by `d`), then takes it away. */
function onPrototypePage<T>(f: () => T, d: PropertyDescriptor = { value: prototypeJs, writable: true, enumerable: true, configurable: true }): T {
  Object.defineProperty(a, 'toJSON', d);
  try {
    return f();
  } finally {
    Reflect.deleteProperty(a, 'toJSON');
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  localStorage.clear();
  for (const c of document.cookie.split('; ')) document.cookie = c.split('=')[0] + '=; max-age=0; path=/';
});

describe('stringify on a page with Array.prototype.toJSON', () => {
  it('writes arrays as arrays, where JSON.stringify writes strings', () => {
    const v = { events: [{ k: 'display', c: 1 }], n: [[1, 2], []] };
    expect(typeof JSON.parse(onPrototypePage(() => JSON.stringify(v))).events).toBe('string');
    expect(onPrototypePage(() => stringify(v))).toBe('{"events":[{"k":"display","c":1}],"n":[[1,2],[]]}');
  });

  it("gives the page its toJSON back with the same attributes, also when stringify throws", () => {
    for (const enumerable of [true, false]) {
      const d = { value: prototypeJs, writable: true, enumerable, configurable: true };
      const after = onPrototypePage(() => {
        const cyclic: unknown[] = [];
        cyclic.push(cyclic);
        expect(() => stringify(cyclic)).toThrow(TypeError);
        stringify([1]);
        return Object.getOwnPropertyDescriptor(a, 'toJSON');
      }, d);
      expect(after).toEqual(d);
    }
  });

  it('adds nothing where there is no toJSON', () => {
    expect(stringify([1, 'a'])).toBe('[1,"a"]');
    expect(Object.getOwnPropertyNames(Array.prototype)).not.toContain('toJSON');
  });

  it('leaves a toJSON that cannot be removed (not configurable), without throwing', () => {
    // In a realm of its own, since this one could not take it away again.
    const realm = vm.createContext({});
    vm.runInContext("Object.defineProperty(Array.prototype, 'toJSON', { value: function () { return 'no' }, enumerable: true })", realm);
    const code = ts.transpileModule(readFileSync('src/sdk/json.ts', 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2018 } }).outputText;
    const exports: { stringify?: (v: unknown) => string } = {};
    vm.runInContext(`'use strict';${code}`, Object.assign(realm, { exports, module: { exports } }));
    expect(vm.runInContext('String(Object.keys(exports))', realm)).toBe('stringify');
    expect(exports.stringify!(vm.runInContext('[[1]]', realm))).toBe('"no"');
  });
});

describe('what Poplet stores and sends, on a page with Array.prototype.toJSON', () => {
  it('records read back as written: no reset on the next page', () => {
    const logs: string[] = [];
    const store = createStore((m) => void logs.push(m));
    store.configure({ storage: 'cookies', cookieExpiryDays: 30 }, true);
    onPrototypePage(() => {
      expect(decode(encode([[1, 2], { a: [3] }]))).toEqual([[1, 2], { a: [3] }]);
      store.write(R.VISITS, [5, 2, [5, 6]]);
      writeState(store, { signedUp: false, history: { 7: { d: 1, c: 0, v: 0, k: 0, l: 9, p: 1, g: 'A' } } });
    });
    expect(store.read(R.VISITS, [0, 0, [0]])).toEqual([5, 2, [5, 6]]);
    expect(readState(store).history).toEqual({ 7: { d: 1, c: 0, v: 0, k: 0, l: 9, p: 1, g: 'A' } });
    expect(logs).toEqual([]);
  });

  it('goals and control-group counts (sendNow): the events go as a list', () => {
    const beacons: string[] = [];
    vi.stubGlobal('navigator', { sendBeacon: (_: string, body: string) => beacons.push(body) > 0 });
    onPrototypePage(() => sendNow('https://popups.test', { site: 's1', events: [{ k: 'goal', c: 3, n: 'buy', t: 7 }] }));
    expect(JSON.parse(beacons[0]).events).toEqual([{ k: 'goal', c: 3, n: 'buy', t: 7 }]);
  });

  it('analytics batches, by POST and by beacon: the events go as a list', () => {
    const f = fakeNet();
    const track = createTracker('https://popups.test', 's1', () => undefined, f.net, () => {});
    onPrototypePage(() => {
      track('display', 7);
      f.fire('pagehide');
    });
    expect(f.beacons.map((b) => b.body)).toEqual([{ site: 's1', events: [{ k: 'display', c: 7, t: 1_000_000 }] }]);
    f.failBeacons();
    onPrototypePage(() => {
      track('close', 7);
      f.fire('pagehide');
    });
    expect(f.sent.map((s) => s.body)).toEqual([{ site: 's1', events: [{ k: 'close', c: 7, t: 1_000_000 }] }]);
  });

  it('the sign-up outbox keeps its list: a sign-up waiting there is not reset away', () => {
    const f = fakeNet();
    f.answers.push('hang');
    const logs: string[] = [];
    const outbox = createOutbox('https://popups.test', f.net, (m) => void logs.push(m), localStorage, 's1');
    const p = { id: 'a1', site: 's1', wisepop_id: 7, email: 'ann@example.com', fields: { tags: ['x', 'y'] } } as never;
    onPrototypePage(() => void outbox.submit(p));
    expect(JSON.parse(localStorage.getItem(OUTBOX_KEY)!).items).toEqual([{ p, n: 0, t: 1_000_000 }]);
    expect(f.sent.map((s) => s.body)).toEqual([p]);
    onPrototypePage(() => f.fire('pagehide'));
    expect(f.beacons.map((b) => b.body)).toEqual([p]);
    expect(logs).toEqual([]);
  });

  it("an exit intent's once per session is remembered", () => {
    let record: string | undefined;
    const env = { win: window, doc: document, now: Date.now, isMobile: false, activity: { get: () => record, set: (v: string) => void (record = v) }, session: 1, log: () => {} };
    const fire = vi.fn();
    const first = armTriggers([{ id: 4, trigger: { type: 'exit' } }], { ...env, page: { since: 0 } }, fire);
    onPrototypePage(() => document.dispatchEvent(new MouseEvent('mouseout', { clientY: 0, bubbles: true })));
    first.dispose();
    expect(fire).toHaveBeenCalledWith(4);
    expect(JSON.parse(record!)).toEqual({ 1: [4] });
    const next = armTriggers([{ id: 4, trigger: { type: 'exit' } }], { ...env, page: { since: 0 } }, fire);
    expect(next.off).toEqual({ 4: 'exit intent: already fired this session' });
    next.dispose();
  });
});
