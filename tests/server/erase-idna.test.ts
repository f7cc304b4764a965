// An address whose domain is internationalized has two spellings of one mailbox:
// user@пример.рф, and user@xn--e1afmkfd.xn--p1ai, which Chromium's <input type=email> sends.
// Erasure (and the --email filter that shows what it would erase) takes either and removes both,
// in the database, the journal, and a replay onto a backup taken before it.
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app';
import { backup, restore } from '../../src/server/lifecycle/backup';
import { eraseEmail } from '../../src/server/lifecycle/erase';
import { emailHash, journalFiles, readJournal } from '../../src/server/lifecycle/journal';
import { replay } from '../../src/server/lifecycle/replay';
import { listEmails, mailboxForms } from '../../src/server/store/signups';
import { addHook, makeEnv, startReceiver, type Env, type Receiver } from './hooks-fixture';

let env: Env | undefined;
let app: FastifyInstance | undefined;
let rx: Receiver | undefined;
afterEach(async () => {
  await app?.close();
  await rx?.close();
  env?.cleanup();
  app = rx = env = undefined;
});

const UNICODE = 'user@пример.рф';
const PUNYCODE = 'user@xn--e1afmkfd.xn--p1ai';
// Both spellings as browsers and people send them (case too), and two other mailboxes.
const STORED = [PUNYCODE, 'User@XN--E1AFMKFD.xn--p1ai', UNICODE, 'USER@ПРИМЕР.РФ'];
const OTHERS = ['other@пример.рф', 'user@example.com'];

async function collect(a: FastifyInstance, site: string, email: string): Promise<void> {
  const r = await a.inject({
    method: 'POST', url: '/collect',
    headers: { origin: 'https://shop.example', 'content-type': 'application/json' },
    payload: { id: randomBytes(12).toString('base64url'), site, wisepop_id: 7, email, fields: {} },
  });
  expect(r.statusCode, r.body).toBe(201);
}

const emails = (e: Env): string[] => (e.deps.db.prepare('SELECT email FROM signups ORDER BY seq').pluck().all() as string[]);

describe('erasure of an internationalized domain', () => {
  it('the forms of one mailbox: both IDNA spellings of the domain, folded; one form for an ASCII or invalid domain', () => {
    expect(mailboxForms(' USER@ПРИМЕР.РФ ').sort()).toEqual([PUNYCODE, UNICODE].sort());
    expect(mailboxForms('User@XN--E1AFMKFD.xn--P1AI').sort()).toEqual([PUNYCODE, UNICODE].sort());
    expect(mailboxForms('Jane@Example.com')).toEqual(['jane@example.com']);
    expect(mailboxForms('a@xn--zz')).toEqual(['a@xn--zz']);
    expect(mailboxForms('no-at-sign')).toEqual(['no-at-sign']);
  });

  for (const [asked, label] of [[UNICODE, 'the Unicode form'], [PUNYCODE, 'the punycode form']] as const) {
    it(`DELETE /api1/emails with ${label} erases both spellings: rows, hook deliveries, journal lines; the erase records make a replay onto an older backup erase both`, async () => {
      env = makeEnv();
      rx = await startReceiver('down');
      addHook(env.deps, env.siteId, rx.url);
      app = buildApp(env.deps);
      for (const e of [...STORED, ...OTHERS]) await collect(app, env.siteId, e);
      const older = await backup(env.deps, join(env.dir, 'backups'));
      expect(listEmails(env.deps.db, env.siteId, { email: asked, limit: 100, offset: 0 }).map((r) => r.email)).toEqual(STORED);

      const r = await app.inject({
        method: 'DELETE', url: `/api1/emails?email=${encodeURIComponent(asked)}`,
        headers: { authorization: `WISEPOPS-API key="${env.key}"` },
      });
      expect(r.statusCode, r.body).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ deleted: 4, deliveries: 4 });
      expect(emails(env)).toEqual(OTHERS);
      expect(env.deps.db.prepare('SELECT COUNT(*) FROM hook_deliveries').pluck().get()).toBe(2);
      const lines = journalFiles(env.deps.config.journalDir).flatMap(readJournal);
      expect(lines.flatMap((l) => (l.type === 'signup' ? [l.payload.email] : []))).toEqual(OTHERS);
      const records = lines.filter((l) => l.type === 'erase');
      expect(records.map((l) => l.email_sha256).sort()).toEqual([emailHash(env.siteId, UNICODE), emailHash(env.siteId, PUNYCODE)].sort());
      expect(records.flatMap((l) => l.ids ?? [])).toHaveLength(4); // the four tombstones, once

      // The database is lost: the backup from before the erasure holds all four; the journal wins.
      await app.close();
      app = undefined;
      env.deps.db.close();
      restore(older, env.deps.config.dbPath);
      env.reopen();
      expect(replay(env.deps, env.deps.config.journalDir)).toMatchObject({ erased: 4, inserted: 0 });
      expect(emails(env)).toEqual(OTHERS);
    });
  }

  it('DELETE /api1/emails scrubs every spelling of the address in one pass over the journal (a scrub reads every file)', async () => {
    env = makeEnv();
    const passes: Array<Record<string, unknown>> = [];
    env.deps.log = { ...env.deps.log, info: (fields, msg) => void (msg === 'journal scrubbed' && passes.push(fields as Record<string, unknown>)) };
    app = buildApp(env.deps);
    for (const e of [...STORED, ...OTHERS]) await collect(app, env.siteId, e);
    const r = await app.inject({
      method: 'DELETE', url: `/api1/emails?email=${encodeURIComponent(UNICODE)}`,
      headers: { authorization: `WISEPOPS-API key="${env.key}"` },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(passes).toEqual([{ addresses: 1, lines: 4 }]);
  });

  it('the CLI path (eraseEmail) scrubs every spelling from the journal too', async () => {
    env = makeEnv();
    app = buildApp(env.deps);
    for (const e of [...STORED, ...OTHERS]) await collect(app, env.siteId, e);
    const r = await eraseEmail(env.deps.db, env.siteId, 'USER@Пример.рф', env.deps.config.journalDir);
    expect(r).toMatchObject({ signups: 4, journalLines: 4 });
    expect(emails(env)).toEqual(OTHERS);
  });
});
