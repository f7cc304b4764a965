// Number properties: "numeric strings" are accepted, anything else fails every operator, `ne`
// included (README, Conditions).
import { describe, expect, it, vi } from 'vitest';
import type { Rule } from '../../../src/shared/campaign-targeting';
import { compileRule } from '../../../src/sdk/targeting/rules';
import { ctx } from './fixtures';

const test = (n: unknown, op: string, value: number) =>
  compileRule({ type: 'property', key: 'n', kind: 'number', op, value } as Rule, vi.fn())!(ctx({ props: { n } }), 1);

describe('number properties', () => {
  it.each([
    ['12', 'eq', 12],
    [' 5 ', 'eq', 5],
    ['1e3', 'eq', 1000],
    ['-2.5', 'lt', 0],
    ['0', 'eq', 0],
    [0, 'lte', 0],
    [-0.5, 'gt', -1],
  ] as const)('%j %s %d passes', (n, op, value) => {
    expect(test(n, op, value)).toBeUndefined();
  });

  it.each([
    // Text with no number in it read as 0 or 1 (+' ' is 0, +true is 1).
    [' ', 'eq', 0],
    ['\n', 'ne', 1],
    [true, 'eq', 1],
    [true, 'ne', 0],
    [false, 'eq', 0],
    ['', 'eq', 0],
    ['12abc', 'ne', 0],
    ['1,5', 'ne', 0],
    ['abc', 'ne', 0],
    [null, 'ne', 0],
    [{ a: 1 }, 'ne', 0],
  ] as const)('%j %s %d fails: not a number', (n, op, value) => {
    expect(test(n, op, value)).toMatch(/^property n is [^]*, needs [=≠<>≤≥] /);
  });
});
