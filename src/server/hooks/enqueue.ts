// Writes the outbox rows for freshly stored sign-ups. Runs inside the sign-up's transaction
// (store/signups.ts registerSignupHook), so a sign-up and its deliveries commit or vanish together.
import type Database from 'better-sqlite3';
import { registerSignupHook, type StoredSignup } from '../store/signups';

type Db = Database.Database;

interface Statements {
  hooks: Database.Statement<[string], { id: number; wisepop_id: number | null }>;
  insert: Database.Statement<[number, number, number, number]>;
  due: Database.Statement<[number, number]>;
}

const statements = new WeakMap<Db, Statements>();
const wakers = new WeakMap<Db, Set<() => void>>();

function prepared(db: Db): Statements {
  let s = statements.get(db);
  if (!s) {
    s = {
      hooks: db.prepare(`SELECT id, wisepop_id FROM hooks WHERE site_id = ? AND event = 'email'`),
      insert: db.prepare(
        `INSERT OR IGNORE INTO hook_deliveries (hook_id, signup_seq, created_ms, next_attempt_at) VALUES (?, ?, ?, ?)`,
      ),
      // A hook with pending rows is already due, or waits for its open batch's retry: new rows
      // wait behind it (worker.ts dueAt). Only a hook with nothing pending becomes due now.
      due: db.prepare(`UPDATE hooks SET next_due_at = ? WHERE id = ? AND next_due_at IS NULL`),
    };
    statements.set(db, s);
  }
  return s;
}

/** Lets a worker be woken as soon as deliveries exist for its database. Returns the unsubscribe. */
export function onDeliveriesQueued(db: Db, wake: () => void): () => void {
  let set = wakers.get(db);
  if (!set) wakers.set(db, (set = new Set()));
  set.add(wake);
  return () => set.delete(wake);
}

export function enqueueDeliveries(db: Db, siteId: string, rows: StoredSignup[]): void {
  if (rows.length === 0) return;
  const s = prepared(db);
  const hooks = s.hooks.all(siteId);
  if (hooks.length === 0) return;
  const now = Date.now();
  let queued = 0;
  const touched = new Set<number>();
  for (const row of rows) {
    for (const hook of hooks) {
      if (hook.wisepop_id !== null && hook.wisepop_id !== row.wisepop_id) continue;
      if (s.insert.run(hook.id, row.seq, now, now).changes === 0) continue;
      queued += 1;
      touched.add(hook.id);
    }
  }
  for (const id of touched) s.due.run(now, id);
  const set = wakers.get(db);
  // better-sqlite3 transactions are synchronous: by the time setImmediate fires, this one has
  // committed (or rolled back, and a spurious wake-up is harmless).
  if (queued > 0 && set?.size) setImmediate(() => set.forEach((wake) => wake()));
}

let installed = false;
/**
 * Registers enqueueDeliveries with the sign-up store, once per process. Called by everything
 * that serves or delivers hooks (registerHookRoutes, startHookWorker), so any process whose
 * sign-ups can have hooks writes their outbox rows.
 */
export function installOutbox(): void {
  if (installed) return;
  registerSignupHook(enqueueDeliveries);
  installed = true;
}
