import { afterEach, describe, expect, it } from 'vitest';
import { startHookWorker, backoffDelay, type HookWorker } from '../../src/server/hooks/worker';
import type { EmailRow } from '../../src/shared/signup';
import { insertSignups, listEmails } from '../../src/server/store/signups';
import { addSite } from '../../src/server/store/sites';
import { join } from 'node:path';
import { startServer } from '../../src/server/main';
import { silentLog } from '../../src/server/log';
import { post, signup as signupBody, startFixture } from './fixture';
import { addHook, makeEnv, signatureValid, signup, startReceiver, waitFor, type Env, type Mode, type Receiver } from './hooks-fixture';

let env: Env;
let workers: HookWorker[] = [];
let receivers: Receiver[] = [];

afterEach(async () => {
  // Receivers first: closing one ends the posts it holds, which a worker's stop waits for (a
  // hanging receiver would hold it for the whole post timeout).
  await Promise.all(receivers.map((r) => r.close()));
  await Promise.all(workers.map((w) => w.stop()));
  workers = [];
  receivers = [];
  env?.cleanup();
});

async function receiver(mode: Mode = 'up') {
  const r = await startReceiver(mode);
  receivers.push(r);
  return r;
}
function worker(options: Parameters<typeof startHookWorker>[1] = {}) {
  const w = startHookWorker(env.deps, { backoffBaseMs: 20, backoffMaxMs: 100, pollMs: 20, ...options });
  workers.push(w);
  return w;
}
const deliveries = (status: string) =>
  (env.deps.db.prepare('SELECT COUNT(*) AS n FROM hook_deliveries WHERE status = ?').get(status) as { n: number }).n;

describe('hook delivery', () => {
  it('posts the sign-up as a signed JSON array in the /api1/emails shape, with a delivery id', async () => {
    env = makeEnv();
    const rx = await receiver();
    addHook(env.deps, env.siteId, rx.url);
    worker();
    const [email] = signup(env.deps, env.siteId, 1);
    await waitFor(() => rx.accepted().length === 1, 5000, 'delivery');
    const { body, headers } = rx.requests[0]!;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-poplet-delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(signatureValid(body, headers['x-wisepops-signature'] as string, env.key)).toBe(true);
    expect(signatureValid(body, headers['x-wisepops-signature'] as string, env.key + 'x')).toBe(false);
    const rows = JSON.parse(body) as EmailRow[];
    expect(rows).toEqual(listEmails(env.deps.db, env.siteId, { limit: 100, offset: 0 }));
    // The seed's keys in its order, then Poplet's consent.
    expect(Object.keys(rows[0]!)).toEqual(['collected_at', 'email', 'wisepop_id', 'ip', 'country_code', 'other_fields', 'consent']);
    expect(rows[0]).toMatchObject({ email, wisepop_id: 12345, ip: '203.0.113.9', country_code: 'US', other_fields: { City: 'Seattle' }, consent: null });
    await waitFor(() => deliveries('sent') === 1, 2000, 'sent mark');
  });

  it('carries the consent text the visitor ticked, as /api1/emails does', async () => {
    env = makeEnv();
    const rx = await receiver();
    addHook(env.deps, env.siteId, rx.url);
    worker();
    const consent = 'Yes, send me offers. I can unsubscribe at any time.';
    insertSignups(env.deps.db, [{
      site_id: env.siteId, client_id: 'consent-hook-1', email: 'ada@example.com', wisepop_id: 7,
      ip: '203.0.113.9', country_code: null, other_fields: {}, consent, variant: null,
    }]);
    await waitFor(() => rx.accepted().length === 1, 5000, 'delivery');
    const rows = JSON.parse(rx.requests[0]!.body) as Array<EmailRow & { consent: string | null }>;
    expect(rows).toEqual([expect.objectContaining({ email: 'ada@example.com', consent })]);
    expect(rows).toEqual(listEmails(env.deps.db, env.siteId, { limit: 100, offset: 0 }));
  });

  it('receiver down for a while then up: every sign-up delivered once, every payload signed, ids stable across retries', async () => {
    env = makeEnv();
    const rx = await receiver('down');
    addHook(env.deps, env.siteId, rx.url);
    worker({ batchSize: 10 });
    const sent: string[] = [];
    for (let i = 0; i < 6; i++) {
      sent.push(...signup(env.deps, env.siteId, 5));
      await new Promise((r) => setTimeout(r, 40));
    }
    await waitFor(() => rx.requests.length >= 4, 5000, 'failed attempts');
    rx.mode = 'drop'; // network errors too, not only HTTP errors
    await new Promise((r) => setTimeout(r, 150));
    sent.push(...signup(env.deps, env.siteId, 7));
    rx.mode = 'up';
    await waitFor(() => rx.emails().length >= sent.length, 10_000, 'all delivered');
    await waitFor(() => deliveries('pending') === 0, 2000, 'outbox drained');

    const got = rx.emails();
    expect(got.length).toBe(sent.length); // no duplicate in the normal path
    expect(new Set(got)).toEqual(new Set(sent)); // none missing
    for (const q of rx.accepted()) expect(signatureValid(q.body, q.headers['x-wisepops-signature'] as string, env.key)).toBe(true);
    // Batching: several sign-ups per payload, never more than batchSize.
    const sizes = rx.accepted().map((q) => (JSON.parse(q.body) as unknown[]).length);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    // A retried batch keeps its delivery id and exact bytes; accepted ids are all distinct.
    const accepted = rx.accepted().map((q) => q.headers['x-poplet-delivery']);
    expect(new Set(accepted).size).toBe(accepted.length);
    const firstFailed = rx.requests.find((q) => q.status !== 200)!;
    const itsSuccess = rx.accepted().find((q) => q.headers['x-poplet-delivery'] === firstFailed.headers['x-poplet-delivery']);
    expect(itsSuccess?.body).toBe(firstFailed.body);
    const hook = env.deps.db.prepare('SELECT last_error, last_success_at FROM hooks').get() as { last_error: string; last_success_at: string };
    expect(hook.last_error).toMatch(/HTTP 503|socket hang up|ECONNRESET/);
    expect(hook.last_success_at).toBeTruthy();
  });

  // 50 fields of 1,000 '€' (3 bytes each in UTF-8): about 150 KB of JSON, near the largest sign-up /collect takes.
  const bigSignups = (n: number): string[] => {
    const emails = Array.from({ length: n }, (_, i) => `big${i}@example.com`);
    const other_fields = Object.fromEntries(Array.from({ length: 50 }, (_, f) => [`field${f}`, '€'.repeat(1000)]));
    insertSignups(env.deps.db, emails.map((email, i) => ({
      site_id: env.siteId, client_id: `big-signup-${i}`, email, wisepop_id: 1, ip: '203.0.113.9', country_code: null, other_fields, consent: null, variant: null,
    })));
    return emails;
  };

  it('a payload is at most 1 MiB (100 sign-ups at their limits were 15 MB, refused by a receiver with an 8 MB limit on every retry); a batch keeps its rows, bytes and id across retries', async () => {
    env = makeEnv();
    const rx = await receiver('down');
    addHook(env.deps, env.siteId, rx.url);
    const sent = bigSignups(100);
    worker();
    await waitFor(() => rx.requests.length >= 2, 5000, 'failed attempts');
    rx.mode = 'up';
    await waitFor(() => deliveries('pending') === 0, 20_000, 'outbox drained');
    for (const q of rx.requests) expect(Buffer.byteLength(q.body)).toBeLessThanOrEqual(1 << 20);
    const sizes = rx.accepted().map((q) => (JSON.parse(q.body) as unknown[]).length);
    expect(Math.min(...sizes.slice(0, -1))).toBeGreaterThan(1); // still batched: as many as fit
    expect(rx.emails().sort()).toEqual([...sent].sort()); // each once
    const failed = rx.requests.find((q) => q.status !== 200)!;
    expect(rx.accepted().find((q) => q.headers['x-poplet-delivery'] === failed.headers['x-poplet-delivery'])?.body).toBe(failed.body);
  }, 30_000);

  it('a sign-up larger than the byte cap is sent alone', async () => {
    env = makeEnv();
    const rx = await receiver();
    addHook(env.deps, env.siteId, rx.url);
    bigSignups(3);
    signup(env.deps, env.siteId, 2);
    worker({ batchBytes: 100_000 });
    await waitFor(() => deliveries('pending') === 0, 5000, 'outbox drained');
    expect(rx.accepted().map((q) => (JSON.parse(q.body) as unknown[]).length)).toEqual([1, 1, 1, 2]);
  });

  it('retries with backoff for at least 24 hours, then marks the deliveries failed', async () => {
    env = makeEnv();
    const rx = await receiver('down');
    addHook(env.deps, env.siteId, rx.url);
    let skew = 0; // simulated time travel on top of the real clock (sign-ups are stamped with the real one)
    const clock = () => Date.now() + skew;
    const w = worker({ now: clock, backoffBaseMs: 60_000, backoffMaxMs: 3_600_000, pollMs: 1_000_000, random: () => 1 });
    // Attempts the worker has recorded (settled), and whether the hook is due at the simulated now.
    const attempts = () => env.deps.db.prepare('SELECT MAX(attempts) FROM hook_deliveries').pluck().get() as number;
    const due = () => ((env.deps.db.prepare('SELECT next_due_at FROM hooks').pluck().get() as number | null) ?? Infinity) <= clock();
    signup(env.deps, env.siteId, 3);
    await waitFor(() => rx.requests.length === 1 && attempts() === 1, 5000, 'first attempt');
    const start = clock();
    const attemptsAt: number[] = [];
    // Advance a simulated clock ten minutes at a time; the worker only retries once a delay is over.
    // A due attempt is awaited until the worker has settled it before the clock moves again: its
    // retry time is reckoned from the clock at settle time, so letting the clock run on while the
    // post is in flight (a loaded machine) would shift the schedule and the time it is recorded at.
    while (deliveries('failed') === 0 && clock() - start < 30 * 3_600_000) {
      const before = rx.requests.length;
      const settled = attempts();
      skew += 10 * 60_000;
      const attempt = due();
      w.kick();
      if (attempt) {
        await waitFor(() => rx.requests.length > before && attempts() > settled, 10_000, 'the due attempt, settled');
        attemptsAt.push(clock() - start);
      } else {
        await new Promise((r) => setTimeout(r, 15));
        expect(rx.requests.length, 'an attempt before its retry time').toBe(before);
      }
    }
    expect(deliveries('failed')).toBe(3);
    const givenUpAfter = attemptsAt.at(-1)!;
    expect(givenUpAfter).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(givenUpAfter).toBeLessThan(26 * 3_600_000);
    // Exponential: the early gaps double (1, 2, 4, 8 minutes... rounded to the 10-minute tick), capped at an hour.
    const gaps = attemptsAt.slice(1).map((t, i) => t - attemptsAt[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(3_600_000 + 10 * 60_000);
    expect(rx.requests.length).toBeGreaterThan(20);
    const hook = env.deps.db.prepare('SELECT last_error FROM hooks').get() as { last_error: string };
    expect(hook.last_error).toBe('HTTP 503');
    const failed = env.deps.db.prepare("SELECT last_error FROM hook_deliveries WHERE status = 'failed'").get() as { last_error: string };
    expect(failed.last_error).toMatch(/^gave up after \d+ attempts: HTTP 503$/);
    // After giving up, nothing more is sent.
    const n = rx.requests.length;
    skew += 10 * 3_600_000;
    w.kick();
    await new Promise((r) => setTimeout(r, 50));
    expect(rx.requests.length).toBe(n);
  });

  it('backoff doubles, is capped and jittered', () => {
    expect(backoffDelay(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(backoffDelay(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(backoffDelay(4, 1000, 60_000, () => 0)).toBe(4000);
    expect(backoffDelay(40, 1000, 60_000, () => 1)).toBe(60_000);
  });

  it('a server restart resumes pending deliveries, re-sending a cut-short batch under the same id', async () => {
    env = makeEnv();
    const rx = await receiver('hang');
    addHook(env.deps, env.siteId, rx.url);
    const first = worker({ timeoutMs: 200_000 });
    const sent = signup(env.deps, env.siteId, 4);
    await waitFor(() => rx.requests.length === 1, 5000, 'hanging attempt');
    const cutId = rx.requests[0]!.headers['x-poplet-delivery'];
    // "Crash": the process goes away with the batch in flight; the DB is reopened by a new process.
    workers = workers.filter((w) => w !== first);
    void first.stop();
    env.reopen();
    sent.push(...signup(env.deps, env.siteId, 3)); // more arrive while no worker runs
    rx.mode = 'up';
    worker();
    await waitFor(() => rx.emails().length >= sent.length, 5000, 'delivered after restart');
    expect(new Set(rx.emails())).toEqual(new Set(sent));
    expect(rx.accepted()[0]!.headers['x-poplet-delivery']).toBe(cutId);
  });

  it('a receiver that answers 2xx only after the timeout gets the batch again, under the same delivery id', async () => {
    env = makeEnv();
    const rx = await receiver('hang');
    addHook(env.deps, env.siteId, rx.url);
    worker({ timeoutMs: 200 });
    const sent = signup(env.deps, env.siteId, 2);
    // It stores the batch, then is slow to say so: past the timeout the worker counts a failure.
    await waitFor(() => rx.requests.length === 1, 5000, 'first attempt');
    rx.mode = 'up';
    await waitFor(() => rx.accepted().length === 1, 5000, 'retry');
    expect(rx.requests.map((r) => r.body)).toEqual([rx.requests[0]!.body, rx.requests[0]!.body]);
    expect(rx.requests.map((r) => r.headers['x-poplet-delivery'])).toEqual(Array(2).fill(rx.requests[0]!.headers['x-poplet-delivery']));
    expect(new Set(rx.emails())).toEqual(new Set(sent));
  });

  it('a hanging receiver neither blocks other hooks nor outlives the timeout', async () => {
    env = makeEnv();
    const slow = await receiver('hang');
    const fast = await receiver('up');
    addHook(env.deps, env.siteId, slow.url);
    addHook(env.deps, env.siteId, fast.url);
    worker({ timeoutMs: 300 });
    const t0 = Date.now();
    signup(env.deps, env.siteId, 1);
    await waitFor(() => fast.accepted().length === 1, 2000, 'fast hook');
    expect(Date.now() - t0).toBeLessThan(1000); // while the other hook hangs for its whole 300 ms timeout and beyond
    await waitFor(() => env.deps.db.prepare("SELECT 1 FROM hooks WHERE last_error LIKE 'timeout%'").get() !== undefined, 3000, 'timeout');
    expect(slow.requests.length).toBeGreaterThanOrEqual(1);
  });

  it('hooks waiting for their retry, with sign-ups queued behind them, do not starve a healthy hook', async () => {
    env = makeEnv();
    // As many failing hooks as the worker has slots, created first so their rows sort first.
    const down: Receiver[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await receiver('down');
      down.push(r);
      addHook(env.deps, env.siteId, r.url);
    }
    const healthy = await receiver('up');
    addHook(env.deps, env.siteId, healthy.url);
    worker({ concurrency: 8, backoffBaseMs: 60_000, backoffMaxMs: 60_000 });
    const sent = signup(env.deps, env.siteId, 1);
    await waitFor(() => down.every((r) => r.requests.length === 1) && healthy.accepted().length === 1, 5000, 'first round');
    // Each failing hook now has a batch waiting a minute; newer sign-ups queue behind it and are
    // older than the healthy hook's next rows.
    for (let i = 0; i < 3; i++) {
      sent.push(...signup(env.deps, env.siteId, 1));
      await new Promise((r) => setTimeout(r, 30));
    }
    await waitFor(() => healthy.emails().length === sent.length, 3000, 'the healthy hook gets every sign-up');
    expect(new Set(healthy.emails())).toEqual(new Set(sent));
    // The failing hooks were not retried early: their batches keep waiting for the backoff.
    for (const r of down) expect(r.requests.length).toBe(1);
  });

  it('with 160,000 deliveries waiting for down receivers, a worker tick reads no delivery row by scanning (event loop free for /collect)', async () => {
    env = makeEnv();
    const down = await receiver('down');
    // A receiver down for a day behind 8 hooks: 20,000 sign-ups each.
    for (let i = 0; i < 8; i++) addHook(env.deps, env.siteId, `${down.url}?hook=${i}`);
    for (let i = 0; i < 40; i++) signup(env.deps, env.siteId, 500);
    expect(deliveries('pending')).toBe(160_000);
    // Which statements a tick runs, by their SQL: wrapped before the worker prepares them.
    const db = env.deps.db;
    const ran = new Set<string>();
    let recording = false;
    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      const st = prepare(sql);
      for (const m of ['run', 'get', 'all', 'iterate'] as const) {
        const f = st[m].bind(st) as (...a: unknown[]) => unknown;
        // `never`: the four methods differ in their return types; each wrapper returns what it wraps.
        st[m] = ((...a: unknown[]) => (recording && ran.add(sql), f(...a))) as never;
      }
      return st;
    }) as typeof db.prepare;
    worker({ backoffBaseMs: 600_000, backoffMaxMs: 600_000, pollMs: 1_000_000 });
    const settled = () => db.prepare('SELECT COUNT(*) FROM hooks WHERE last_error IS NOT NULL').pluck().get() === 8;
    await waitFor(settled, 10_000, 'every hook tried once');
    await new Promise((r) => setTimeout(r, 50));
    // The worker ticks after every sign-up commit; each tick runs in its own setImmediate.
    recording = true;
    for (let i = 0; i < 3; i++) {
      workers[0]!.kick();
      await new Promise((r) => setImmediate(r));
    }
    recording = false;
    expect(ran.size).toBeGreaterThan(0);
    // Grouping the pending rows took a median 177 ms a tick here; a plan that SCANs
    // hook_deliveries (even along an index) is what made it grow with the backlog.
    const plans = [...ran].flatMap((sql) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array(sql.split('?').length - 1).fill(0)) as { detail: string }[]).map((r) => r.detail),
    );
    expect(plans.filter((d) => /SCAN hook_deliveries/.test(d))).toEqual([]);
    expect(down.requests.length).toBe(8); // every batch waits for its retry
  }, 60_000);

  it('a database from before per-hook due times gets them on upgrade, and its waiting deliveries go out', async () => {
    env = makeEnv();
    const rx = await receiver('up');
    const fresh = addHook(env.deps, env.siteId, rx.url);
    const waiting = addHook(env.deps, env.siteId, `${rx.url}?waiting`);
    const sent = signup(env.deps, env.siteId, 3);
    const db = env.deps.db;
    // The waiting hook's first two rows form a batch that retries in an hour; the third waits behind it.
    const retryAt = Date.now() + 3_600_000;
    db.prepare(
      `UPDATE hook_deliveries SET batch_id = 'b1', attempts = 1, next_attempt_at = ? WHERE id IN
         (SELECT id FROM hook_deliveries WHERE hook_id = ? ORDER BY id LIMIT 2)`,
    ).run(retryAt, waiting);
    const idle = addHook(env.deps, env.siteId, `${rx.url}?idle`);
    // Back to the shape version 100 left: no due times, the old index.
    db.exec(`
      DROP INDEX hooks_due; DROP INDEX hook_deliveries_pending; DROP INDEX hook_deliveries_open;
      ALTER TABLE hooks DROP COLUMN next_due_at;
      CREATE INDEX hook_deliveries_due ON hook_deliveries(next_attempt_at, hook_id) WHERE status = 'pending';
      DELETE FROM schema_migrations WHERE version = 101;`);
    const created = db.prepare('SELECT MIN(created_ms) FROM hook_deliveries WHERE hook_id = ?').pluck().get(fresh) as number;
    env.reopen();
    const due = (id: number) => env.deps.db.prepare('SELECT next_due_at FROM hooks WHERE id = ?').pluck().get(id);
    expect(due(fresh)).toBe(created);
    expect(due(waiting)).toBe(retryAt);
    expect(due(idle)).toBeNull();
    worker();
    await waitFor(() => rx.emails().length === 3, 5000, 'the pending deliveries');
    expect(new Set(rx.emails())).toEqual(new Set(sent));
    expect(rx.requests.every((q) => q.headers['x-poplet-delivery'] !== 'b1')).toBe(true); // still waiting
    expect(due(fresh)).toBeNull();
    expect(due(waiting)).toBe(retryAt);
  });

  it('a site whose key cannot be decrypted neither starves the other hooks nor hides its error', async () => {
    env = makeEnv();
    const rx = await receiver('up');
    const broken = addSite(env.deps.db, env.deps.secret, { domain: 'broken.example' }).site.id;
    env.deps.db.prepare("UPDATE sites SET key_enc = 'AAAA.AAAA.AAAA' WHERE id = ?").run(broken);
    const brokenHook = addHook(env.deps, broken, rx.url);
    addHook(env.deps, env.siteId, rx.url);
    signup(env.deps, broken, 1); // due first, and with one slot it would hold the head of the queue
    worker({ concurrency: 1, backoffBaseMs: 60_000 });
    const [email] = signup(env.deps, env.siteId, 1);
    await waitFor(() => rx.emails().includes(email!), 3000, 'the healthy hook');
    const hook = env.deps.db.prepare('SELECT last_error FROM hooks WHERE id = ?').get(brokenHook) as { last_error: string };
    expect(hook.last_error).toMatch(/^cannot prepare delivery/);
    expect(rx.requests.every((r) => !r.body.includes('broken'))).toBe(true);
  });

  it("a site whose receivers all hang holds its share of the slots, not every slot: another site's hooks still flow", async () => {
    env = makeEnv();
    const stuck = addSite(env.deps.db, env.deps.secret, { domain: 'stuck.example' }).site.id;
    const hang = await receiver('hang');
    for (let i = 0; i < 8; i++) addHook(env.deps, stuck, `${hang.url}?hook=${i}`);
    signup(env.deps, stuck, 1); // due first: eight hooks, as many as the worker has slots
    const rx = await receiver('up');
    addHook(env.deps, env.siteId, rx.url);
    worker({ concurrency: 8, perSite: 2, timeoutMs: 60_000 });
    await waitFor(() => hang.requests.length === 2, 3000, "the stuck site's share");
    const [email] = signup(env.deps, env.siteId, 1);
    // Without a share per site its eight hanging posts hold all eight slots for the whole timeout.
    await waitFor(() => rx.emails().includes(email!), 3000, "the other site's hook");
    expect(hang.requests.length).toBe(2);
  });

  it('a hook bound to a campaign only gets that campaign, and an all-campaign hook gets both', async () => {
    env = makeEnv();
    const only7 = await receiver();
    const all = await receiver();
    addHook(env.deps, env.siteId, only7.url, 7);
    addHook(env.deps, env.siteId, all.url);
    worker();
    const a = signup(env.deps, env.siteId, 2, 7);
    const b = signup(env.deps, env.siteId, 2, 8);
    await waitFor(() => all.emails().length === 4 && only7.emails().length === 2, 5000, 'deliveries');
    expect(new Set(only7.emails())).toEqual(new Set(a));
    expect(new Set(all.emails())).toEqual(new Set([...a, ...b]));
  });

  it('refuses to deliver to a private address at delivery time when private hooks are not allowed', async () => {
    env = makeEnv({ POPLET_ALLOW_PRIVATE_HOOKS: '0' });
    const rx = await receiver();
    // Stored as if it had passed the creation check while its DNS still pointed elsewhere.
    addHook(env.deps, env.siteId, rx.url.replace('127.0.0.1', 'localhost'));
    worker();
    signup(env.deps, env.siteId, 1);
    await waitFor(() => env.deps.db.prepare('SELECT last_error FROM hooks WHERE last_error IS NOT NULL').get() !== undefined, 3000, 'refusal');
    const hook = env.deps.db.prepare('SELECT last_error FROM hooks').get() as { last_error: string };
    expect(hook.last_error).toMatch(/private or reserved/);
    expect(rx.requests.length).toBe(0);
    expect(deliveries('pending')).toBe(1);
  });

  it('a deleted hook takes its pending deliveries with it', async () => {
    env = makeEnv();
    const rx = await receiver('down');
    const id = addHook(env.deps, env.siteId, rx.url);
    signup(env.deps, env.siteId, 3);
    expect(deliveries('pending')).toBe(3);
    env.deps.db.prepare('DELETE FROM hooks WHERE id = ?').run(id);
    expect(deliveries('pending')).toBe(0);
  });

  it('a receiver that answers 410 Gone unsubscribes: its hook is deleted with its pending deliveries, logged, and gets nothing more; other 4xx are retried', async () => {
    env = makeEnv();
    const warnings: Array<{ fields: Record<string, unknown>; msg?: string }> = [];
    env.deps.log = { ...silentLog, warn: (fields, msg) => void warnings.push({ fields: fields as Record<string, unknown>, msg }) };
    const gone = await receiver(410);
    const missing = await receiver(404);
    const goneId = addHook(env.deps, env.siteId, gone.url);
    const missingId = addHook(env.deps, env.siteId, missing.url);
    worker();
    signup(env.deps, env.siteId, 3);
    const hooks = () => env.deps.db.prepare('SELECT id FROM hooks ORDER BY id').pluck().all();
    await waitFor(() => missing.requests.length >= 3 && hooks().length === 1, 5000, 'retries of the 404 hook, the 410 one gone');
    expect(hooks()).toEqual([missingId]);
    expect(env.deps.db.prepare('SELECT COUNT(*) FROM hook_deliveries WHERE hook_id = ?').pluck().get(goneId)).toBe(0);
    expect(gone.requests).toHaveLength(1);
    expect(warnings.filter((w) => w.fields.hook === goneId)).toEqual([{
      fields: { hook: goneId, site: env.siteId, delivery: gone.requests[0]!.headers['x-poplet-delivery'], droppedDeliveries: 3 },
      msg: expect.stringMatching(/^hook deleted: its receiver answered 410 Gone/),
    }]);
    // The 404 is a failure like any other: retried, its deliveries pending.
    expect(env.deps.db.prepare(`SELECT COUNT(*) FROM hook_deliveries WHERE hook_id = ? AND status = 'pending'`).pluck().get(missingId)).toBe(3);
    expect(env.deps.db.prepare('SELECT last_error FROM hooks WHERE id = ?').pluck().get(missingId)).toBe('HTTP 404');
    // New sign-ups are no longer queued for the gone receiver.
    signup(env.deps, env.siteId, 2);
    expect(env.deps.db.prepare('SELECT COUNT(*) FROM hook_deliveries WHERE hook_id = ?').pluck().get(goneId)).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(gone.requests).toHaveLength(1);
  });

  it('a receiver that hangs holds a shutdown no longer than the requests in flight get; the post cut then goes again at the next start, same id', async () => {
    const rx = await receiver('hang');
    // The post timeout stays 10 s: the shutdown's grace (5 s by default, 10 s under Docker's stop) bounds the wait instead.
    const f = await startFixture({ allowPrivateHooks: true, shutdownGraceMs: 300 });
    try {
      addHook(f.server.deps, f.site, rx.url);
      expect((await post(`${f.url}/collect`, signupBody(f.site))).status).toBe(201);
      await waitFor(() => rx.requests.length === 1, 5000, 'hanging attempt');
      const t0 = Date.now();
      await f.server.close();
      expect(Date.now() - t0).toBeLessThan(3000);
      // Not counted as the receiver's failure: the batch is as it was, due, under its id.
      const row = f.db.prepare('SELECT status, attempts, batch_id FROM hook_deliveries').get();
      expect(row).toEqual({ status: 'pending', attempts: 0, batch_id: rx.requests[0]!.headers['x-poplet-delivery'] });
      expect(f.db.prepare('SELECT last_error FROM hooks').pluck().get()).toBeNull();
      rx.mode = 'up';
      const again = await startServer({ dataDir: f.dir, dbPath: join(f.dir, 'poplet.db'), host: '127.0.0.1', port: 0, logRequests: false, allowPrivateHooks: true }, silentLog);
      try {
        await waitFor(() => rx.accepted().length === 1, 5000, 'sent after the restart');
      } finally {
        await again.close();
      }
      expect(rx.accepted()[0]!.headers['x-poplet-delivery']).toBe(rx.requests[0]!.headers['x-poplet-delivery']);
    } finally {
      await f.close();
    }
  });
});
