// A receiver with a smaller body limit than Poplet's 1 MiB (a gateway, a serverless host), or a
// batch formed before payloads were capped (up to 15 MB), answered 413 on every retry: its sign-ups
// failed for good after 24 h. A 413 now splits the batch (worker.ts, shrink).
import { afterEach, describe, expect, it } from 'vitest';
import { startHookWorker, type HookWorker } from '../../src/server/hooks/worker';
import { listHooks, retryHook } from '../../src/server/hooks/manage';
import { insertSignups } from '../../src/server/store/signups';
import { addHook, makeEnv, startReceiver, waitFor, type Env, type Receiver } from './hooks-fixture';

const HOUR = 3_600_000;
let env: Env;
let workers: HookWorker[] = [];
let rx: Receiver;

afterEach(async () => {
  await rx?.close();
  await Promise.all(workers.map((w) => w.stop()));
  workers = [];
  env?.cleanup();
});

// Backoff far longer than a test: a batch that waited for it would never arrive.
function worker(options: Parameters<typeof startHookWorker>[1] = {}): HookWorker {
  const w = startHookWorker(env.deps, { backoffBaseMs: 600_000, backoffMaxMs: 600_000, pollMs: 20, ...options });
  workers.push(w);
  return w;
}

let counter = 0;
/** `n` sign-ups whose rows are each about `bytes` of JSON. */
function signups(n: number, bytes: number): string[] {
  const emails = Array.from({ length: n }, () => `p${++counter}@example.com`);
  insertSignups(env.deps.db, emails.map((email) => ({
    site_id: env.siteId, client_id: `too-large-${counter}-${email}`, email, wisepop_id: 1, ip: '203.0.113.9',
    country_code: null, other_fields: { note: 'x'.repeat(bytes) }, consent: null, variant: null,
  })));
  return emails;
}

const pending = () => env.deps.db.prepare("SELECT COUNT(*) FROM hook_deliveries WHERE status = 'pending'").pluck().get() as number;
const tooLarge = () => rx.requests.filter((q) => q.status === 413).length;

/** Every delivery id the receiver saw came with one body only. */
function expectIdsNeverReused(): void {
  const bodies = new Map<string, Set<string>>();
  for (const q of rx.requests) {
    const id = String(q.headers['x-poplet-delivery']);
    bodies.set(id, (bodies.get(id) ?? new Set()).add(q.body));
  }
  for (const [id, set] of bodies) expect(set.size, `bodies sent under ${id}`).toBe(1);
}

/** Each sign-up accepted exactly once, and nothing else. */
function expectEachOnce(sent: string[]): void {
  expect([...rx.emails()].sort()).toEqual([...sent].sort());
}

describe('a receiver that answers 413 Payload Too Large', () => {
  it('gets every sign-up once, in batches halved at once under new ids; later batches are formed small at once, across a restart, until the learned size lapses', async () => {
    env = makeEnv();
    rx = await startReceiver('up');
    rx.maxBytes = 20_000;
    const hook = addHook(env.deps, env.siteId, rx.url);
    const sent = signups(40, 1500); // about 62 KB in one batch
    // A batch formed before payloads were capped, already retried once: it keeps being refused.
    env.deps.db.prepare(`UPDATE hook_deliveries SET batch_id = 'pre-cap-batch', attempts = 1`).run();
    worker();
    await waitFor(() => pending() === 0, 5000, 'every sign-up, without waiting for a backoff');
    expectEachOnce(sent);
    expectIdsNeverReused();
    for (const q of rx.accepted()) expect(Buffer.byteLength(q.body)).toBeLessThanOrEqual(20_000);
    expect(rx.requests[0]!.headers['x-poplet-delivery']).toBe('pre-cap-batch');
    expect(rx.accepted().every((q) => q.headers['x-poplet-delivery'] !== 'pre-cap-batch')).toBe(true);
    // 62 KB, 31 KB, then 15.5 KB passes.
    expect(tooLarge()).toBe(2);
    expect(Math.max(...rx.accepted().map((q) => (JSON.parse(q.body) as unknown[]).length))).toBeGreaterThan(1);
    expect(env.deps.db.prepare("SELECT COUNT(*) FROM hook_deliveries WHERE status = 'sent'").pluck().get()).toBe(40);

    // A backlog after a restart: formed at the learned size, no 413.
    await workers.pop()!.stop();
    env.reopen();
    sent.push(...signups(40, 1500));
    worker();
    await waitFor(() => pending() === 0, 5000, 'the second backlog');
    expectEachOnce(sent);
    expect(tooLarge()).toBe(2);
    const maxBytes = env.deps.db.prepare('SELECT max_bytes FROM hooks WHERE id = ?').pluck().get(hook) as number;
    expect(maxBytes).toBeLessThanOrEqual(20_000);
    // GET /api1/hooks (and `hook list`) show it while it holds.
    const until = env.deps.db.prepare('SELECT max_bytes_until FROM hooks WHERE id = ?').pluck().get(hook) as number;
    expect(listHooks(env.deps.db, env.siteId)[0]).toMatchObject({ max_payload_bytes: maxBytes, max_payload_until: new Date(until).toISOString() });
    expect(listHooks(env.deps.db, env.siteId, until)[0]).toMatchObject({ max_payload_bytes: null, max_payload_until: null });
    // A retry (the owner fixed the receiver) forgets it; the 24 h lapse is checked below without one.
    const learned = () => env.deps.db.prepare('SELECT max_bytes, max_bytes_until FROM hooks WHERE id = ?').get(hook);
    const kept = learned();
    expect(retryHook(env.deps.db, env.siteId, hook)).toBe(0);
    expect(learned()).toEqual({ max_bytes: null, max_bytes_until: null });
    expect(listHooks(env.deps.db, env.siteId)[0]!.max_payload_bytes).toBeNull();
    env.deps.db.prepare('UPDATE hooks SET max_bytes = @max_bytes, max_bytes_until = @max_bytes_until WHERE id = @id').run({ ...(kept as object), id: hook });

    // A day later the receiver's limit was raised: batches are full size again.
    await workers.pop()!.stop();
    rx.maxBytes = Infinity;
    const before = rx.requests.length;
    sent.push(...signups(40, 1500));
    worker({ now: () => Date.now() + 25 * HOUR });
    await waitFor(() => pending() === 0, 5000, 'the third backlog');
    expectEachOnce(sent);
    expect(rx.requests.slice(before).map((q) => (JSON.parse(q.body) as unknown[]).length)).toEqual([40]);
    expectIdsNeverReused();
  });

  it('a lone sign-up still too large is retried with backoff and failed after the retry window; the others get through once', async () => {
    env = makeEnv();
    rx = await startReceiver('up');
    rx.maxBytes = 5_000;
    addHook(env.deps, env.siteId, rx.url);
    const small = signups(1, 200);
    const [big] = signups(1, 10_000);
    small.push(...signups(2, 200));
    let skew = 0; // simulated time on top of the real clock, as in hooks-delivery's 24-hour test
    const clock = () => Date.now() + skew;
    const w = worker({ now: clock, backoffBaseMs: 60_000, backoffMaxMs: HOUR, pollMs: 1_000_000, random: () => 1 });
    const db = env.deps.db;
    const bigRow = () => db.prepare(
      `SELECT d.status, d.attempts, d.last_error FROM hook_deliveries d JOIN signups s ON s.seq = d.signup_seq WHERE s.email = ?`,
    ).get(big) as { status: string; attempts: number; last_error: string | null };
    const due = () => ((db.prepare('SELECT next_due_at FROM hooks').pluck().get() as number | null) ?? Infinity) <= clock();
    // The whole batch (413), split: the first small one alone passes, then the big one alone (413).
    await waitFor(() => bigRow().attempts === 1, 5000, "the big sign-up's first failure");
    expect(rx.emails()).toEqual([small[0]]);
    const start = clock();
    for (let i = 0; i < 300 && bigRow().status === 'pending'; i++) {
      const settled = bigRow().attempts;
      skew += 10 * 60_000;
      if (!due()) continue;
      w.kick();
      await waitFor(() => bigRow().attempts > settled, 5000, 'the due retry, settled');
    }
    expect(bigRow()).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/^gave up after \d+ attempts: HTTP 413$/) });
    expect(clock() - start).toBeGreaterThan(24 * HOUR - 60_000);
    expect(bigRow().attempts).toBeGreaterThan(20); // with backoff, not once per tick
    // The two behind it were waiting for it; they go now.
    w.kick();
    await waitFor(() => pending() === 0, 5000, 'the sign-ups behind it');
    expectEachOnce(small);
    expectIdsNeverReused();
  });
});
