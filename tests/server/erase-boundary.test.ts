// The erasure's time boundary must agree with the sign-ups' collected_ms, which can run ahead of
// the clock (a burst: each row 1 ms after the previous; a clock stepped back) or behind the commit
// (a writer that read the clock before waiting for the erasure's write lock). The database, the
// journal scrub and a restore + replay must all erase exactly the same sign-ups.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { backup, restore } from '../../src/server/lifecycle/backup';
import { replay } from '../../src/server/lifecycle/replay';
import { eraseEmail } from '../../src/server/lifecycle/erase';
import { createJournal, journalFiles, readJournal, type EraseEntry } from '../../src/server/lifecycle/journal';
import { insertSignups, type NewSignup } from '../../src/server/store/signups';
import type { SignupPayload } from '../../src/shared/signup';
import { makeEnv, type Env } from './hooks-fixture';

let env: Env;
afterEach(() => env?.cleanup());

let n = 0;
/** Stores sign-ups with the clock reading `now` and journals them as /collect does. */
function collect(e: Env, emails: string[], now: number): void {
  const items: NewSignup[] = emails.map((email) => ({
    site_id: e.siteId, client_id: `client-${String(++n).padStart(12, '0')}`, email, wisepop_id: 1,
    ip: '192.0.2.1', country_code: null, other_fields: {}, consent: null, variant: null,
  }));
  const res = insertSignups(e.deps.db, items, now);
  const journal = createJournal(e.deps.config.journalDir);
  res.forEach((r, i) => {
    const it = items[i]!;
    const payload = { id: it.client_id, site: it.site_id, wisepop_id: 1, email: it.email } as SignupPayload;
    journal.append(payload, { collected_at: r.row!.collected_at, ip: it.ip, country_code: null });
  });
  journal.close();
}

const journalText = (e: Env) => journalFiles(e.deps.config.journalDir).map((f) => readFileSync(f, 'utf8')).join('');
const rowsOf = (e: Env, email: string) =>
  e.deps.db.prepare('SELECT collected_ms FROM signups WHERE email = ?').pluck().all(email) as number[];
const eraseAt = (e: Env) => {
  const rec = journalFiles(e.deps.config.journalDir).flatMap(readJournal).filter((x) => x.type === 'erase') as EraseEntry[];
  return Date.parse(rec.at(-1)!.at);
};

async function restoreAndReplay(e: Env, file: string): Promise<void> {
  const dbPath = e.deps.config.dbPath;
  e.deps.db.close();
  for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) rmSync(f, { force: true });
  restore(file, dbPath);
  e.reopen();
  replay(e.deps, e.deps.config.journalDir);
}

describe('erasure time boundary', () => {
  it('erases a sign-up collected ahead of the clock everywhere: database, journal, restore + replay', async () => {
    env = makeEnv();
    const file = await backup(env.deps, join(env.dir, 'backups'));
    // A burst that ran ahead of the clock (as 300 sign-ups in one millisecond do, or a clock
    // stepped back since): the victim's collected_ms is later than the erasure's Date.now().
    const emails = Array.from({ length: 299 }, (_, i) => `u${i}@example.com`).concat('victim@example.com');
    collect(env, emails, Date.now() + 60_000);
    const r = await eraseEmail(env.deps.db, env.siteId, 'Victim@Example.com', env.deps.config.journalDir);
    expect(r.signups).toBe(1);
    expect(r.journalLines).toBe(1);
    expect(journalText(env)).not.toContain('victim@example.com');
    expect(rowsOf(env, 'victim@example.com')).toEqual([]);

    await restoreAndReplay(env, file);
    expect(rowsOf(env, 'victim@example.com')).toEqual([]);
    expect(env.deps.db.prepare('SELECT COUNT(*) FROM signups').pluck().get()).toBe(299);
  });

  it('keeps a sign-up committed after the erasure everywhere, even with a clock read before it', async () => {
    env = makeEnv();
    const file = await backup(env.deps, join(env.dir, 'backups'));
    collect(env, ['jane@example.com'], Date.now());
    await eraseEmail(env.deps.db, env.siteId, 'jane@example.com', env.deps.config.journalDir);
    const at = eraseAt(env);
    // A server insert that read the clock a minute before (waiting for the CLI's write lock, or
    // a clock stepped back) commits after the erasure: it is a new sign-up and must stay.
    collect(env, ['jane@example.com'], at - 60_000);
    const [ms] = rowsOf(env, 'jane@example.com');
    expect(ms).toBeGreaterThan(at);
    // A second erasure of another address scrubs the journal again: jane's new line stays.
    await eraseEmail(env.deps.db, env.siteId, 'other@example.com', env.deps.config.journalDir);
    expect(journalText(env).split('\n').filter((l) => l.includes('jane@example.com'))).toHaveLength(1);

    await restoreAndReplay(env, file);
    expect(rowsOf(env, 'jane@example.com')).toEqual([ms]);
  });

  it('after a restore + replay, new sign-ups are still collected after the replayed erasures', async () => {
    env = makeEnv();
    const file = await backup(env.deps, join(env.dir, 'backups'));
    collect(env, ['jane@example.com'], Date.now() + 60_000);
    await eraseEmail(env.deps.db, env.siteId, 'jane@example.com', env.deps.config.journalDir);
    const at = eraseAt(env);
    await restoreAndReplay(env, file);
    // The restored database predates the erasure: replay must carry its boundary over.
    collect(env, ['jane@example.com'], Date.now());
    const [ms] = rowsOf(env, 'jane@example.com');
    expect(ms).toBeGreaterThan(at);
    replay(env.deps, env.deps.config.journalDir);
    expect(rowsOf(env, 'jane@example.com')).toEqual([ms]);
  });
});
