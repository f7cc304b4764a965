// A page with Prototype.js 1.5/1.6 (the version whose Array.prototype.toJSON Poplet sets aside,
// still found on shops): it replaces Array.prototype.reduce with its own, which takes no callback
// and returns the array itself (or its first item). A/B draws summed the weights with reduce (every
// visitor got the last variant) and dot-path properties were read with it (`user.plan` read as the
// list of its keys, a missing `plan` as the string 'plan'). Prototype's reduce is put in place
// only around the code under test.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { prop } from '../../src/sdk/targeting/rules';
import { assignGroup } from '../../src/sdk/targeting/variant';
import type { Campaign } from '../../src/shared/campaign';

/** Prototype.js 1.6's Array#reduce, verbatim but for the types. */
function prototypeReduce(this: unknown[]): unknown {
  return this.length > 1 ? this : this[0];
}

function onPrototypePage<T>(f: () => T): T {
  const d = Object.getOwnPropertyDescriptor(Array.prototype, 'reduce')!;
  Object.defineProperty(Array.prototype, 'reduce', { value: prototypeReduce, writable: true, enumerable: true, configurable: true });
  try {
    return f();
  } finally {
    Object.defineProperty(Array.prototype, 'reduce', d);
  }
}

describe("Prototype.js 1.6's Array.prototype.reduce", () => {
  it('dot-path properties read as without it, a missing one as missing', () => {
    const props = { user: { plan: 'gold' } };
    expect(onPrototypePage(() => [prop(props, 'user.plan'), prop(props, 'plan'), prop(props, 'user.age')])).toEqual(['gold', undefined, undefined]);
  });

  it('A/B draws follow the weights: the first variant is drawn too', () => {
    const c = { id: 1, variants: [{ id: 'a', weight: 50 }, { id: 'b', weight: 50 }] } as unknown as Campaign;
    expect(onPrototypePage(() => [0.1, 0.9].map((r) => assignGroup(c, [], () => r)))).toEqual(['a', 'b']);
  });

  it('no browser code calls reduce: the two above were the only ones', () => {
    const files = ['src/sdk', 'src/shared'].flatMap((d) => readdirSync(d, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => `${d}/${f}`));
    expect(files.filter((f) => /\.reduce(Right)?\(/.test(readFileSync(f, 'utf8')))).toEqual([]);
  });
});
