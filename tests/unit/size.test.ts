// Bundle budgets (package.json "budgets"): gzip bytes for the js bundles, raw bytes for the
// snippet. Builds first when dist/ is missing.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';

const budgets = (JSON.parse(readFileSync('package.json', 'utf8')) as { budgets: Record<string, number> }).budgets;
if (Object.keys(budgets).some((f) => !existsSync(f))) execSync('npx tsx esbuild.config.ts', { stdio: 'inherit' });

describe('bundle size', () => {
  it.each(Object.entries(budgets))('%s is within its budget of %i bytes', (file, budget) => {
    const raw = readFileSync(file);
    const size = file.endsWith('.min.js') ? raw.length : gzipSync(raw, { level: 9 }).length;
    expect(size).toBeLessThanOrEqual(budget);
  });

  it('the core carries no eval and no Function constructor (strict CSP)', () => {
    const core = readFileSync('dist/poplet.js', 'utf8');
    expect(core).not.toMatch(/\beval\(/);
    expect(core).not.toMatch(/\bFunction\(/);
  });
});
