// Seeded, deterministic generators for the fuzz tests: the same seed gives the same cases on every
// run, so a failure names its seed and case and can be replayed alone. FUZZ_SEED changes the
// seed and FUZZ_RUNS multiplies the case counts, for a longer local search. The server's HTTP fuzz
// (tests/server/fuzz-kit.ts) draws from the same Rng.

/** mulberry32: a tiny 32-bit PRNG, good enough to pick mutations. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SEED = Number(process.env.FUZZ_SEED || 20250618);
export const RUNS = Number(process.env.FUZZ_RUNS || 1);
/** FUZZ_CASE: run that case alone (to replay a failure). */
const ONLY = process.env.FUZZ_CASE;

export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(l: readonly T[]): T {
    return l[this.int(l.length)];
  }
  /** A seed for a case of its own, so one case replays without the ones before it. */
  seedOf(): number {
    return this.int(2 ** 32);
  }
}

/**
 * Runs `cases` cases, each with its own generator seeded from the base seed and its index, and
 * returns the failures (at most `keep`), each naming its seed, its case and a preview of its input,
 * so one can be replayed alone with FUZZ_SEED and FUZZ_CASE.
 */
export function fuzz<T>(name: string, cases: number, make: (r: Rng, i: number) => T, check: (input: T, r: Rng) => void, keep = 5): string[] {
  const fails: string[] = [];
  for (let i = ONLY ? +ONLY : 0; i < (ONLY ? +ONLY + 1 : cases * RUNS) && fails.length < keep; i++) {
    const r = new Rng(SEED + i * 7919);
    let input: T | undefined;
    try {
      input = make(r, i);
      check(input, r);
    } catch (e) {
      fails.push(`${name}: seed ${SEED} case ${i}: ${e instanceof Error ? e.stack?.split('\n').slice(0, 4).join(' | ') : String(e)}\n  input: ${preview(input)}`);
    }
  }
  return fails;
}

/**
 * A short description of a case's input that never throws and runs none of its code: getters,
 * toJSON and Proxy traps are named, not called.
 */
export function preview(x: unknown): string {
  let room = 1500;
  const show = (v: unknown, depth: number): string => {
    if (room < 0) return '…';
    if (typeof v == 'string') return JSON.stringify(v.length > 80 ? v.slice(0, 40) + `…(${v.length})` : v);
    if (typeof v == 'bigint') return v + 'n';
    if (typeof v == 'function') return 'ƒ';
    if (!v || typeof v != 'object') return String(v);
    if (depth > 6) return Array.isArray(v) ? '[…]' : '{…}';
    try {
      if (v instanceof Date) return `Date(${+v})`;
      const keys = Reflect.ownKeys(v).filter((k) => typeof k == 'string' && (!Array.isArray(v) || k != 'length')) as string[];
      const items = keys.slice(0, 20).map((k) => {
        const d = Object.getOwnPropertyDescriptor(v, k)!;
        const s = 'value' in d ? show(d.value, depth + 1) : 'get()';
        return Array.isArray(v) ? s : JSON.stringify(k) + ':' + s;
      });
      if (keys.length > 20) items.push(`…(${keys.length})`);
      const out = Array.isArray(v) ? `[${items.join(',')}]` : `{${items.join(',')}}`;
      room -= out.length;
      return out;
    } catch (e) {
      return `(Proxy? ${String(e)})`;
    }
  };
  return show(x, 0);
}

export const clone = <T>(x: T): T => (x === undefined ? x : (JSON.parse(JSON.stringify(x)) as T));

/** Nested `depth` times: lists in lists, or `{key: …}`. */
export const deep = (depth: number, key?: string, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = key ? { [key]: v } : [v];
  return v;
};

/** Keys an object may carry to trip code that reads members of what it takes for a plain object. */
export const ODD_KEYS = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'toJSON', 'length', 'then', ''];

/** Strings that are awkward to regexes, dates, URL encoding and size limits. */
export const ODD_STRINGS = [
  '',
  ' ',
  '\t\n',
  'x'.repeat(5000),
  'é'.repeat(3000),
  '\uD800',
  'a\uDC00b',
  '😀'.repeat(3),
  '(',
  '[a-',
  '*',
  '\\',
  '(?<x',
  'a{2,1}',
  '(?<=a)b',
  '^$',
  '.*',
  '%',
  '%E0%A4%A',
  ';,"\'~=',
  '2025-02-30',
  '2025-13-01',
  '2025-06-01T25:00',
  '+275760-09-13T00:00:00Z',
  '-271821-04-20',
  '9999-12-31T23:59:59.999Z',
  '0000-01-01',
  '1970-01-01T00:00:00+14:00',
  'not a date',
  'NaN',
  '0x10',
  '1e400',
  'Infinity',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'control',
  'javascript:alert(1)',
  '<img src=x onerror=alert(1)>',
];

export const ODD_NUMBERS = [0, -0, -1, 0.5, 1, 2, 24, 100, 101, 1e11, 1e11 - 1, 2 ** 31, 2 ** 32, 2 ** 53, 1e21, 1e308, -1e308, 5e-324, NaN, Infinity, -Infinity];

/**
 * An odd value. `json`: only what JSON can carry (no NaN, Infinity, -0 survives but as 0 after a
 * round trip, so it is left as is).
 */
export function odd(r: Rng, json = false): unknown {
  switch (r.int(9)) {
    case 0:
      return r.pick([null, true, false]);
    case 1: {
      const n = r.pick(ODD_NUMBERS);
      return json && !isFinite(n) ? r.pick([1e308, -1e308, 0]) : n;
    }
    case 2:
    case 3:
      return r.pick(ODD_STRINGS);
    case 4:
      return r.pick([[], [null], [[]], [''], ['x', 'x'], [1, '1'], [{}]]);
    case 5: {
      // Own keys, as JSON.parse makes them (`__proto__` included).
      const o: Record<string, unknown> = {};
      for (let n = r.int(3) + 1; n--; ) Object.defineProperty(o, r.pick(ODD_KEYS), { value: oddLeaf(r, json), enumerable: true, writable: true, configurable: true });
      return o;
    }
    case 6:
      return JSON.parse('{"__proto__": {"x": 1}, "toString": 1, "valueOf": 1}');
    case 7:
      return deep(r.pick([3, 40, 300]), r.chance(0.5) ? r.pick(['not', 'all', 'a']) : undefined);
    default:
      return r.pick<unknown>([{}, { type: 'constructor' }, { toString: 'x' }, { length: 1e9 }, { then: 1 }]);
  }
}

const oddLeaf = (r: Rng, json: boolean): unknown => (r.chance(0.5) ? r.pick(ODD_STRINGS) : r.chance(0.5) ? r.pick([null, true, 1, {}, []]) : json ? 1 : r.pick(ODD_NUMBERS));

/**
 * An object no conversion to text or number survives: its own toString and valueOf are no
 * functions. JSON.parse makes such objects from a campaign set or a record.
 */
export const hostile = () => JSON.parse('{"toString": 1, "valueOf": 1, "__proto__": null}') as Record<string, unknown>;

/** Every slot of a JSON-like tree: [holder, key] pairs, holders being objects and lists. */
function slots(x: unknown): Array<[Record<string, unknown> | unknown[], string | number]> {
  const out: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const walk = (v: unknown, depth: number) => {
    if (!v || typeof v != 'object' || depth > 60) return;
    if (Array.isArray(v)) v.forEach((e, i) => (out.push([v, i]), walk(e, depth + 1)));
    else
      for (const k of Object.keys(v)) {
        out.push([v as Record<string, unknown>, k]);
        walk((v as Record<string, unknown>)[k], depth + 1);
      }
  };
  walk(x, 0);
  return out;
}

const set = (holder: Record<string, unknown> | unknown[], k: string | number, v: unknown) =>
  Object.defineProperty(holder, k, { value: v, enumerable: true, writable: true, configurable: true });

/**
 * `x` mutated in place `n` times: a slot gets an odd value or a value from `vocab` (which keeps
 * many mutants valid, so they reach the code behind the validator), is deleted, gets a sibling key,
 * or takes a copy of another slot.
 */
export function mutate<T>(x: T, r: Rng, vocab: { strings: string[]; keys: string[]; numbers: number[] }, n: number, json = false): T {
  for (let m = 0; m < n; m++) {
    const all = slots(x);
    if (!all.length) return x;
    const [h, k] = r.pick(all);
    const cur = (h as Record<string, unknown>)[k];
    const kind = r.int(11);
    if (kind < 3) set(h, k, odd(r, json));
    else if (kind < 6)
      set(h, k, typeof cur == 'string' || r.chance(0.3) ? r.pick(vocab.strings) : typeof cur == 'number' ? r.pick(vocab.numbers) : r.pick([...vocab.strings, ...vocab.numbers, true, false]));
    else if (kind == 6) {
      if (Array.isArray(h)) h.splice(k as number, 1);
      else delete h[k];
    } else if (kind == 7) {
      if (Array.isArray(h)) h.push(clone(r.pick(h)));
      else set(h, r.pick([...vocab.keys, ...ODD_KEYS]), r.chance(0.5) ? r.pick(vocab.strings) : odd(r, json));
    } else if (kind == 8) {
      const [h2, k2] = r.pick(all);
      set(h, k, clone((h2 as Record<string, unknown>)[k2]) ?? null);
    } else if (kind == 9) set(h, k, Array.isArray(cur) ? [...cur, ...cur] : r.pick(vocab.numbers));
    else {
      // A key of the schema, on an object that may not use it, holding what cannot be converted
      // to text (the validator ignores a key the object's type does not use).
      const objects = all.map(([o, key]) => (o as Record<string, unknown>)[key]).filter((v): v is Record<string, unknown> => !!v && typeof v == 'object' && !Array.isArray(v));
      // Mostly on a targeting condition (it has a type and often an op), where keys meet the engine.
      const conditions = objects.filter((o) => 'op' in o || 'is' in o || 'in' in o);
      if (objects.length) set(r.pick(conditions.length && r.chance(0.7) ? conditions : objects), r.pick(vocab.keys), r.pick([hostile(), [hostile()], { a: hostile() }]));
    }
  }
  return x;
}
