// What the HTTP fuzz test (fuzz.test.ts) is built from: a seeded PRNG, JSON that can hold what
// JSON.stringify cannot write (duplicate keys, 1e400, raw escapes), chunked bodies, a worker pool.

// The seeded PRNG is the SDK fuzz tests' (mulberry32): the same sequence on every run and machine.
import { Rng } from '../unit/fuzz/gen';

export { Rng };

// ---------------------------------------------------------------------------------------------
// JSON as a tree that serializes to what a hostile client may send.

/** Text written as is: `1e400`, `-0`, `"\u005f_proto__"`, … */
export class Raw {
  constructor(readonly text: string) {}
}
/** An object as its entries: keys may repeat, and a key may be raw text. */
export class Obj {
  constructor(readonly entries: Array<[string | Raw, J]>) {}
}
export type J = null | boolean | number | string | Raw | Obj | J[];

export function tree(v: unknown): J {
  if (Array.isArray(v)) return v.map(tree);
  if (v !== null && typeof v === 'object') return new Obj(Object.entries(v).map(([k, x]) => [k, tree(x)]));
  return v as J;
}

export function serialize(j: J): string {
  if (j instanceof Raw) return j.text;
  if (j instanceof Obj) return `{${j.entries.map(([k, v]) => `${k instanceof Raw ? k.text : JSON.stringify(k)}:${serialize(v)}`).join(',')}}`;
  if (Array.isArray(j)) return `[${j.map(serialize).join(',')}]`;
  return JSON.stringify(j);
}

/** Every place in the tree a value sits, with a way to replace it (the root excluded). */
export function slots(root: J): Array<{ get: () => J; set: (v: J) => void; parent: Obj | J[] }> {
  const out: Array<{ get: () => J; set: (v: J) => void; parent: Obj | J[] }> = [];
  const walk = (j: J) => {
    if (j instanceof Obj) {
      j.entries.forEach((e) => {
        out.push({ get: () => e[1], set: (v) => (e[1] = v), parent: j });
        walk(e[1]);
      });
    } else if (Array.isArray(j)) {
      j.forEach((x, i) => {
        out.push({ get: () => j[i]!, set: (v) => (j[i] = v), parent: j });
        walk(x);
      });
    }
  };
  walk(root);
  return out;
}

/** `body` in HTTP/1.1 chunks of random sizes (never a zero-length chunk before the last). */
export function chunked(body: Buffer, rng: Rng): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  while (at < body.length) {
    const n = Math.min(body.length - at, 1 + rng.int(Math.max(1, body.length)));
    out.push(Buffer.from(`${n.toString(16)}\r\n`), body.subarray(at, at + n), Buffer.from('\r\n'));
    at += n;
  }
  out.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(out);
}

/** Runs `run` over `items`, `width` at a time. */
export async function pool<T>(items: T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}
