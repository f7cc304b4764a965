// Bundle budgets (package.json "budgets"): each file stays under its enforced limit. Bytes are
// deterministic, so this is a test, not a benchmark. Builds first when dist/ is missing.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { CHUNKS_HASH_LENGTH } from '../../src/shared/chunks';
import { budgets, measure } from '../bench/budgets';

const all = budgets();
if (all.some((b) => !existsSync(b.file))) execSync('npx tsx esbuild.config.ts', { stdio: 'inherit' });

describe('bundle size', () => {
  it('every bundle has a budget', () => {
    expect(all.map((b) => b.file).sort()).toEqual(['dist/poplet.collect.js', 'dist/poplet.js', 'dist/poplet.ui.js', 'dist/snippet.min.js']);
    // A limit may sit below its goal: a bundle that met its goal keeps its spare bytes in sight,
    // and a change that needs them raises the limit in its own commit.
    for (const b of all) expect(Math.min(b.limit, b.goal)).toBeGreaterThan(0);
  });

  it.each(all.map((b) => [b.file, b.limit] as const))('%s is within its limit of %i bytes', (file, limit) => {
    expect(measure(file).counted).toBeLessThanOrEqual(limit);
  });

  it.each(['dist/poplet.js', 'dist/poplet.ui.js', 'dist/poplet.collect.js'])('%s is stamped with the package version, so chunks of two versions never mix', (file) => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(readFileSync(file, 'utf8')).toContain(JSON.stringify(version));
  });

  it("the core asks for the chunks in this build's folder, which the build keeps and lists", () => {
    const ui = readFileSync('dist/poplet.ui.js');
    const collect = readFileSync('dist/poplet.collect.js');
    const key = createHash('sha256').update(ui).update(collect).digest('hex').slice(0, CHUNKS_HASH_LENGTH);
    const core = readFileSync('dist/poplet.js', 'utf8');
    expect(core).toContain('chunks/${');
    expect(core).toContain(`"${key}"`);
    expect(readFileSync(`dist/chunks/${key}/poplet.ui.js`)).toEqual(ui);
    expect(readFileSync(`dist/chunks/${key}/poplet.collect.js`)).toEqual(collect);
    const builds = JSON.parse(readFileSync('dist/chunks/builds.json', 'utf8')) as string[];
    expect(builds.at(-1)).toBe(key);
    expect(builds.length).toBeLessThanOrEqual(20);
  });

  it.each(['dist/poplet.js', 'dist/poplet.ui.js', 'dist/poplet.collect.js'])('%s carries no eval and no Function constructor (strict CSP)', (file) => {
    const code = readFileSync(file, 'utf8');
    expect(code).not.toMatch(/\beval\(/);
    expect(code).not.toMatch(/\bFunction\(/);
  });
});
