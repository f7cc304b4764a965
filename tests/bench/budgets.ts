// The size budgets of package.json "budgets", read once for the size test and the bench.
// gzip -9 bytes for the bundles; raw bytes for the snippet, which is pasted, not served.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export interface Budget {
  file: string;
  /** Enforced: the size test fails above it. */
  limit: number;
  /** The issues' target. */
  goal: number;
}

export function budgets(): Budget[] {
  const all = (JSON.parse(readFileSync('package.json', 'utf8')) as { budgets: Record<string, Budget | string> }).budgets;
  return Object.entries(all)
    .filter((e): e is [string, Budget] => typeof e[1] === 'object')
    .map(([file, b]) => ({ file, limit: b.limit, goal: b.goal }));
}

export function measure(file: string): { raw: number; gzip: number; counted: number } {
  const bytes = readFileSync(file);
  const gzip = gzipSync(bytes, { level: 9 }).length;
  return { raw: bytes.length, gzip, counted: file.endsWith('.min.js') ? bytes.length : gzip };
}
