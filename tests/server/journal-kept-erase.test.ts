// A journal that cannot be written keeps its lines in memory and writes them once it can
// (README, The recovery journal). An erasure made meanwhile must not find only the files: the
// address's kept lines, written after it answered, put the erased address back in the journal.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { journalFiles } from '../../src/server/lifecycle/journal';
import { apiAuth, captureLog, post, signup, startFixture, type Fixture } from './fixture';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const day = () => new Date().toISOString().slice(0, 10);
const journalText = (dir: string) => journalFiles(dir).map((f) => readFileSync(f, 'utf8')).join('');

describe('an erasure while the journal keeps lines in memory', () => {
  it('drops the address from them: written later, they do not bring it back', async () => {
    const log = captureLog();
    fx = await startFixture({ collectPerMinute: 0, backupEveryHours: 0 }, log);
    const jdir = join(fx.dir, 'journal');
    expect((await post(`${fx.url}/collect`, signup(fx.site))).status).toBe(201);
    await new Promise((ok) => setTimeout(ok, 20));
    // The file fails (EISDIR here; ENOSPC on a full disk): the next lines are kept in memory.
    const file = join(jdir, `collect-${day()}.0.jsonl`);
    const saved = readFileSync(file);
    rmSync(file);
    mkdirSync(file);
    const victim = signup(fx.site, { email: 'kept.in.memory@example.net' });
    const other = signup(fx.site);
    expect((await post(`${fx.url}/collect`, victim)).status).toBe(201);
    expect((await post(`${fx.url}/collect`, other)).status).toBe(201);
    await new Promise((ok) => setTimeout(ok, 20));
    expect(log.lines.some((l) => l.msg?.startsWith('journal write failed'))).toBe(true);
    // The disk is fixed; the erasure comes before the next sign-up.
    rmSync(file, { recursive: true });
    writeFileSync(file, saved, { mode: 0o600 });
    const res = await fetch(`${fx.url}/api1/emails?email=${encodeURIComponent(victim.email)}`, { method: 'DELETE', headers: apiAuth(fx.key) });
    expect(res.status).toBe(200);
    expect(journalText(jdir)).not.toContain(victim.email);
    // The next sign-up writes the kept lines: the other one's, not the erased address's.
    const after = signup(fx.site);
    expect((await post(`${fx.url}/collect`, after)).status).toBe(201);
    await new Promise((ok) => setTimeout(ok, 20));
    const text = journalText(jdir);
    expect(text).toContain(other.id);
    expect(text).toContain(after.id);
    expect(text).not.toContain(victim.email);
    expect(text).not.toContain(victim.id);
  });
});
