// The outbox worker: posts pending hook deliveries, batching a hook's waiting sign-ups into one
// JSON array, retrying failures with exponential backoff and jitter for at least `retryForMs`
// (24 h) before marking them failed. Everything it needs is in the database, so a restart simply
// picks up where the last process stopped (a batch cut short by a crash is re-sent with the same
// X-Poplet-Delivery id: receivers deduplicate on it). A batch the receiver refuses as too large
// (413) is split instead (shrink, below).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type Database from 'better-sqlite3';
import { httpsPolicy, type ServerDeps } from '../config';
import { emailRow } from '../store/signups';
import { signingKey } from '../store/keys';
import { installOutbox, onDeliveriesQueued } from './enqueue';
import { deleteHook, learnedBytes } from './manage';
import { postPayload, signPayload } from './post';

export interface HookWorkerOptions {
  now?: () => number;
  random?: () => number;
  /** First retry delay; doubles each attempt up to backoffMaxMs. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How long a batch is retried before it is marked failed. */
  retryForMs?: number;
  timeoutMs?: number;
  /** Hooks posted to at once: a slow receiver holds one slot, not the queue. */
  concurrency?: number;
  /** Of those, one site's at most: a site whose receivers all hang leaves the others' slots free. */
  perSite?: number;
  batchSize?: number;
  /** Most bytes of one payload; a single sign-up larger than that is sent alone. */
  batchBytes?: number;
  /**
   * How long a smaller payload size learned from a receiver's 413 holds after its last 413.
   * Positive: the halving forms the next batch by it.
   */
  learnedBytesForMs?: number;
  /** Safety poll and retry clock; new sign-ups wake the worker immediately. */
  pollMs?: number;
}

export interface HookWorker {
  /**
   * Stops taking batches, and waits for the posts in flight up to `graceMs` (default: the post
   * timeout). Past it they are cut, not settled: their batches stay due under their ids, and the
   * next start sends them again, as after a crash.
   */
  stop(graceMs?: number): Promise<void>;
  kick(): void;
}

const DEFAULTS = {
  backoffBaseMs: 5_000,
  backoffMaxMs: 60 * 60_000,
  retryForMs: 24 * 60 * 60_000,
  timeoutMs: 10_000,
  // A hung post holds its slot until the timeout, and a slot cannot be taken back: a site's share
  // is what its own hooks had before shares existed, and three sites whose receivers all hang
  // still leave slots for the others.
  concurrency: 32,
  perSite: 8,
  batchSize: 100,
  // 100 sign-ups at their limits (50 fields of 1,000 characters) make about 17 MB, which a receiver
  // with PHP's default post_max_size (8 MB) refuses on every retry. 1 MiB passes nginx's default
  // client_max_body_size too; the largest sign-up /collect takes (192 KB) always fits.
  batchBytes: 1 << 20,
  learnedBytesForMs: 24 * 60 * 60_000,
  pollMs: 1_000,
};

/** Delay before retry number `attempts` (1-based): exponential, capped, with "equal jitter". */
export function backoffDelay(attempts: number, base: number, max: number, random: () => number): number {
  const ceiling = Math.min(max, base * 2 ** Math.min(attempts - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

// SQLite prefers hook_deliveries_hook (equality on two columns) for the open batch, then walks
// every pending row of a hook that has none: 7 ms with a 20,000-row backlog. The partial index
// holds only open batches' rows.
const OPEN_ROWS = 'hook_deliveries INDEXED BY hook_deliveries_open';

// When the hook whose id is the SQL expression `hook` is next due: its open batch's retry time if
// it has one (newer rows wait behind it), else its earliest pending row; NULL when nothing is
// pending. Both lookups are on partial indexes (schema.ts, version 101).
const dueAt = (hook: string): string => `COALESCE(
  (SELECT next_attempt_at FROM ${OPEN_ROWS}
   WHERE hook_id = ${hook} AND status = 'pending' AND batch_id IS NOT NULL ORDER BY id LIMIT 1),
  (SELECT MIN(next_attempt_at) FROM hook_deliveries WHERE hook_id = ${hook} AND status = 'pending'))`;

function prepare(db: Database.Database) {
  return {
    // Reads the hooks' own due times (schema.ts, version 101): O(due hooks), not O(pending rows),
    // since it runs after every sign-up commit. A hook whose open batch waits for its retry is not
    // due however old the rows queued behind that batch, so failing hooks hold no slot.
    dueHooks: db.prepare<[number], { hook_id: number; site_id: string }>(
      `SELECT id AS hook_id, site_id FROM hooks WHERE next_due_at <= ? ORDER BY next_due_at`,
    ),
    refreshDue: db.prepare<[number]>(`UPDATE hooks SET next_due_at = ${dueAt('hooks.id')} WHERE id = ?`),
    refreshAllDue: db.prepare(`UPDATE hooks SET next_due_at = ${dueAt('hooks.id')}`),
    openBatch: db.prepare<[number], { batch_id: string; next_attempt_at: number }>(
      `SELECT batch_id, next_attempt_at FROM ${OPEN_ROWS}
       WHERE hook_id = ? AND status = 'pending' AND batch_id IS NOT NULL ORDER BY id LIMIT 1`,
    ),
    // The rows formBatch takes with the same LIMIT, in its order, for their sizes. The LIMIT is on
    // the delivery ids (sorted from the index) before the join reads any sign-up.
    candidates: db.prepare<[number, number, number], Parameters<typeof emailRow>[0]>(
      `SELECT s.* FROM (SELECT id, signup_seq FROM hook_deliveries WHERE hook_id = ? AND status = 'pending' AND batch_id IS NULL
           AND next_attempt_at <= ? ORDER BY id LIMIT ?) d JOIN signups s ON s.seq = d.signup_seq ORDER BY d.id`,
    ),
    formBatch: db.prepare<[string, number, number, number]>(
      `UPDATE hook_deliveries SET batch_id = ? WHERE id IN (
         SELECT id FROM hook_deliveries WHERE hook_id = ? AND status = 'pending' AND batch_id IS NULL
           AND next_attempt_at <= ? ORDER BY id LIMIT ?)`,
    ),
    hook: db.prepare<[number], { id: number; site_id: string; target_url: string; max_bytes: number | null; max_bytes_until: number | null }>(
      `SELECT id, site_id, target_url, max_bytes, max_bytes_until FROM hooks WHERE id = ?`,
    ),
    learnBytes: db.prepare<[number, number, number]>(`UPDATE hooks SET max_bytes = ?, max_bytes_until = ? WHERE id = ?`),
    // Back to the rows waiting to be batched, due as they were: the oldest pending, so the next
    // batch starts with them.
    dissolve: db.prepare<[string, string]>(
      `UPDATE hook_deliveries SET batch_id = NULL, last_error = ? WHERE batch_id = ? AND status = 'pending'`,
    ),
    batchRows: db.prepare<[string], Parameters<typeof emailRow>[0]>(
      `SELECT s.* FROM hook_deliveries d JOIN signups s ON s.seq = d.signup_seq
       WHERE d.batch_id = ? AND d.status = 'pending' ORDER BY s.seq`,
    ),
    batchAge: db.prepare<[string], { first: number; attempts: number }>(
      `SELECT MIN(created_ms) AS first, MAX(attempts) AS attempts FROM hook_deliveries WHERE batch_id = ? AND status = 'pending'`,
    ),
    sent: db.prepare<[number, string]>(
      `UPDATE hook_deliveries SET status = 'sent', sent_ms = ?, attempts = attempts + 1, last_error = NULL
       WHERE batch_id = ? AND status = 'pending'`,
    ),
    retry: db.prepare<[number, string, string]>(
      `UPDATE hook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
       WHERE batch_id = ? AND status = 'pending'`,
    ),
    failed: db.prepare<[string, string]>(
      `UPDATE hook_deliveries SET status = 'failed', attempts = attempts + 1, last_error = ?
       WHERE batch_id = ? AND status = 'pending'`,
    ),
    pending: db.prepare<[number], number>(`SELECT COUNT(*) FROM hook_deliveries WHERE hook_id = ? AND status = 'pending'`).pluck(),
    hookOk: db.prepare<[string, number]>(`UPDATE hooks SET last_success_at = ? WHERE id = ?`),
    hookError: db.prepare<[string, string, number]>(`UPDATE hooks SET last_error = ?, last_error_at = ? WHERE id = ?`),
    // Hooks due later than any schedule a worker sets (its backoffMaxMs at most): their rows were
    // queued or scheduled while the clock ran ahead, then stepped back (hooks_due index).
    aheadHooks: db.prepare<[number], { hook_id: number }>(`SELECT id AS hook_id FROM hooks WHERE next_due_at > ?`),
    // Such rows are due now, and their age counts from now (the 24 h before they are marked failed).
    pullBack: db.prepare<[number, number, number, number, number]>(
      `UPDATE hook_deliveries SET next_attempt_at = MIN(next_attempt_at, ?), created_ms = MIN(created_ms, ?)
       WHERE hook_id = ? AND status = 'pending' AND (next_attempt_at > ? OR created_ms > ?)`,
    ),
    defer: db.prepare<[number, number]>(
      `UPDATE hook_deliveries SET next_attempt_at = ? WHERE hook_id = ? AND status = 'pending'`,
    ),
  };
}

/**
 * How many of `rows`, in order, make a payload (a JSON array) of at most `maxBytes`: the first
 * always does, so a sign-up larger than the cap goes alone rather than never.
 */
function fitBytes(rows: Iterable<Parameters<typeof emailRow>[0]>, maxBytes: number): number {
  let n = 0;
  let bytes = 1; // '['; each row then adds its own bytes and the ',' or ']' after it
  for (const row of rows) {
    bytes += Buffer.byteLength(JSON.stringify(emailRow(row))) + 1;
    if (n > 0 && bytes > maxBytes) break;
    n += 1;
  }
  return n;
}

interface Batch {
  hookId: number;
  siteId: string;
  batchId: string;
  target: string;
  body: string;
  signature: string;
  /** Sign-ups in it. */
  size: number;
}

export function startHookWorker(deps: ServerDeps, options: HookWorkerOptions = {}): HookWorker {
  installOutbox();
  const o = { ...DEFAULTS, ...options };
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const { db, secret, log } = deps;
  const allowPrivate = Boolean(deps.config.allowPrivateHooks);
  const httpsOnly = httpsPolicy(deps.config).required;
  const q = prepare(db);
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const inFlight = new Map<number, Promise<void>>();
  const cut = new AbortController();
  /** Slots each site holds. */
  const bySite = new Map<string, number>();
  let stopped = false;
  let scheduled = false;

  // Claims the next batch of a hook inside one transaction: either the batch already being
  // retried (same rows, same id) or a new one cut from the waiting rows. While a hook's batch
  // waits for its retry time, newer rows wait behind it: the receiver is probably down.
  const claimRows = (hookId: number, at: number): Batch | null => {
    const hook = q.hook.get(hookId);
    if (!hook) return null;
    let batchId: string;
    const open = q.openBatch.get(hookId);
    if (open) {
      if (open.next_attempt_at > at) return null;
      batchId = open.batch_id;
    } else {
      batchId = randomUUID();
      // Sized once, when formed: a retry sends the same rows under the same id, so a batch can
      // never outgrow the cap later.
      const n = fitBytes(q.candidates.iterate(hookId, at, o.batchSize), Math.min(o.batchBytes, learnedBytes(hook, at)));
      if (n === 0 || q.formBatch.run(batchId, hookId, at, n).changes === 0) return null;
    }
    const rows = q.batchRows.all(batchId);
    if (rows.length === 0) return null;
    const body = JSON.stringify(rows.map(emailRow));
    const signature = signPayload(body, signingKey(db, secret, hook.site_id));
    return { hookId, siteId: hook.site_id, batchId, target: hook.target_url, body, signature, size: rows.length };
  };
  const claim = db.transaction((hookId: number, at: number): Batch | null => {
    const batch = claimRows(hookId, at);
    // Listed as due with nothing to send: its rows went (erasure, retention) or its due time was
    // early. Corrected here, or it would keep taking a slot on every tick.
    if (!batch) refreshDue(hookId);
    return batch;
  });
  const refreshDue = (hookId: number): void => {
    q.refreshDue.run(hookId);
  };
  // A clock that stepped back would otherwise hold those deliveries (and every later one of their
  // hooks, queued behind them) until it caught up with the time it said then.
  // The latest a schedule can be: a database may hold the retries of a worker with the default
  // backoff (an hour) whatever this one's.
  const latest = Math.max(o.backoffMaxMs, DEFAULTS.backoffMaxMs);
  const pullBackAhead = db.transaction((at: number): void => {
    for (const { hook_id } of q.aheadHooks.all(at + latest)) {
      q.pullBack.run(at, at, hook_id, at + latest, at);
      refreshDue(hook_id);
    }
  });

  const settle = db.transaction((batch: Batch, error: string | null) => {
    const at = now();
    const iso = new Date(at).toISOString();
    if (error === null) {
      q.sent.run(at, batch.batchId);
      q.hookOk.run(iso, batch.hookId);
    } else {
      q.hookError.run(error, iso, batch.hookId);
      const age = q.batchAge.get(batch.batchId);
      if (age && age.first !== null) {
        if (at - age.first >= o.retryForMs) {
          q.failed.run(`gave up after ${age.attempts + 1} attempts: ${error}`, batch.batchId);
        } else {
          q.retry.run(at + backoffDelay(age.attempts + 1, o.backoffBaseMs, o.backoffMaxMs, random), error, batch.batchId);
        }
      }
    }
    refreshDue(batch.hookId);
  });

  // The receiver answered 410 Gone: it asks to be unsubscribed for good (REST hooks as Zapier
  // defines them, the pattern of the seed's event/target_url API). Retrying for 24 h and queueing
  // every new sign-up for it would only pile up deliveries nobody will take.
  const removeGone = db.transaction((batch: Batch): number => {
    const dropped = q.pending.get(batch.hookId) ?? 0;
    return deleteHook(db, batch.siteId, batch.hookId) ? dropped : 0;
  });

  // The receiver answered 413 Payload Too Large: it took none of the batch, and would refuse the
  // same bytes on every retry (a gateway or serverless host with a smaller body limit than ours, or
  // a batch formed before payloads were capped at 1 MiB, up to 15 MB). A batch of several sign-ups
  // is dissolved and its rows go again at once, cut to half its bytes, under new delivery ids: a
  // receiver keying on X-Poplet-Delivery never sees one id with two contents. Halving again on each
  // 413 ends at one sign-up, whose 413 is a failure like any other (settle). Returns whether the
  // batch was dissolved.
  //
  // What the halving learned is kept with the hook, so the batches that follow are formed at that
  // size at once rather than each going through the 413s again, across restarts too. It lapses
  // learnedBytesForMs (24 h) after the hook's last 413: a receiver whose limit was raised, or
  // whose 413 came from a gateway fault since fixed, gets full batches back within a day, with no
  // one to remember to reset anything; one whose limit stands pays a halving series (log2 of the
  // ratio, each step sent at once) at most once a day, and only when a backlog forms a batch above
  // its limit (live sign-ups travel one or two at a time). Probing upward after successes instead
  // would draw a 413 on every probe, through every backlog.
  const shrink = db.transaction((batch: Batch, error: string): boolean => {
    const at = now();
    const hook = q.hook.get(batch.hookId);
    if (!hook) return false;
    const half = Math.floor(Buffer.byteLength(batch.body) / 2);
    q.learnBytes.run(Math.min(learnedBytes(hook, at), half), at + o.learnedBytesForMs, batch.hookId);
    if (batch.size < 2) return false;
    q.hookError.run(error, new Date(at).toISOString(), batch.hookId);
    q.dissolve.run(error, batch.batchId);
    refreshDue(batch.hookId);
    return true;
  });

  // A hook whose batch cannot even be built (a site key the server secret no longer decrypts)
  // steps aside for a while instead of heading the due list and starving every other hook.
  const defer = db.transaction((hookId: number, at: number, error: string) => {
    q.hookError.run(error, new Date(at).toISOString(), hookId);
    q.defer.run(at + o.backoffBaseMs, hookId);
    refreshDue(hookId);
  });

  async function deliver(batch: Batch): Promise<void> {
    const result = await postPayload(
      batch.target,
      batch.body,
      {
        'Content-Type': 'application/json',
        'X-Wisepops-Signature': batch.signature,
        'X-Poplet-Delivery': batch.batchId,
      },
      { timeoutMs: o.timeoutMs, allowPrivate, httpsOnly, agents, signal: cut.signal },
    );
    // Cut by stop(): the receiver did not fail, the server went away.
    if (!db.open || cut.signal.aborted) return;
    if (!result.ok && result.status === 410) {
      const dropped = removeGone(batch);
      // By id, not URL (a URL may hold a token): the hook vanishes from the API, so the log is where
      // its owner learns why.
      log.warn(
        { hook: batch.hookId, site: batch.siteId, delivery: batch.batchId, droppedDeliveries: dropped },
        'hook deleted: its receiver answered 410 Gone (unsubscribe); its pending deliveries were dropped. Create the hook again to resume',
      );
      return;
    }
    if (!result.ok && result.status === 413 && shrink(batch, result.error)) {
      log.warn(
        { hook: batch.hookId, delivery: batch.batchId, bytes: Buffer.byteLength(batch.body), signups: batch.size },
        'hook batch refused as too large (413): its sign-ups go again at once in smaller batches, under new delivery ids',
      );
      return;
    }
    settle(batch, result.ok ? null : result.error);
    if (!result.ok) log.warn({ hook: batch.hookId, delivery: batch.batchId, error: result.error }, 'hook delivery failed');
  }

  function tick(): void {
    scheduled = false;
    if (stopped || !db.open) return;
    try {
      if (inFlight.size >= o.concurrency) return;
      const at = now();
      // Every due hook, not the first few: a site at its share is passed over.
      for (const { hook_id, site_id } of q.dueHooks.all(at)) {
        if (inFlight.size >= o.concurrency) break;
        if (inFlight.has(hook_id) || (bySite.get(site_id) ?? 0) >= o.perSite) continue;
        let batch: Batch | null;
        try {
          batch = claim(hook_id, at);
        } catch (e) {
          log.error({ err: e, hook: hook_id }, 'hook delivery could not be prepared');
          defer(hook_id, at, `cannot prepare delivery: ${(e as Error).message}`);
          continue;
        }
        if (!batch) continue;
        const run = deliver(batch)
          .catch((e: unknown) => log.error({ err: e, hook: hook_id }, 'hook worker error'))
          .finally(() => {
            inFlight.delete(hook_id);
            const n = bySite.get(site_id)! - 1;
            if (n) bySite.set(site_id, n);
            else bySite.delete(site_id);
            kick();
          });
        inFlight.set(hook_id, run);
        bySite.set(site_id, (bySite.get(site_id) ?? 0) + 1);
      }
    } catch (e) {
      log.error({ err: e }, 'hook worker tick failed');
    }
  }

  function kick(): void {
    if (stopped || scheduled) return;
    scheduled = true;
    setImmediate(tick);
  }

  // Due times are kept by every writer of pending rows; recomputing them once per start (one
  // index lookup per hook) also brings forward the few a deleted waiting batch left late.
  q.refreshAllDue.run();
  // Hooks created over http before HTTPS was required: their deliveries fail (and retry, then
  // fail for good after retryForMs) without a connection. Said once at start, by id (a URL may
  // hold a token), as well as in each failed delivery's log line and the hook's last_error.
  if (httpsOnly) {
    for (const h of db.prepare<[], { id: number; site_id: string }>(`SELECT id, site_id FROM hooks WHERE target_url NOT LIKE 'https:%'`).all()) {
      log.warn({ hook: h.id, site: h.site_id }, 'hook target is http and HTTPS is required: its sign-ups will not be sent; create it again with an https URL');
    }
  }
  const unsubscribe = onDeliveriesQueued(db, kick);
  // A clock step back is looked for once per poll, not on every tick (one per delivery and per
  // sign-up queued): it is rare, and a second's delay is nothing beside the time it would hold.
  const pullBack = () => {
    try {
      if (!stopped && db.open) pullBackAhead(now());
    } catch (e) {
      log.error({ err: e }, 'hook deliveries scheduled ahead of the clock not brought back');
    }
  };
  const poll = setInterval(() => (pullBack(), kick()), o.pollMs);
  poll.unref();
  pullBack();
  kick();

  return {
    kick,
    async stop(graceMs = o.timeoutMs) {
      stopped = true;
      clearInterval(poll);
      unsubscribe();
      // Letting in-flight posts finish avoids needless re-sends; a receiver that hangs must not
      // hold a shutdown for the whole post timeout (10 s, Docker's whole stop timeout).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight.values()]),
        new Promise<void>((done) => (timer = setTimeout(done, graceMs))),
      ]);
      clearTimeout(timer);
      cut.abort();
      await Promise.allSettled([...inFlight.values()]);
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
