// Tables of the hooks outbox and of the data lifecycle, run by store/db.ts after the core
// migrations (versions 100+ so both lists can grow independently).
//
// hook_deliveries is a durable outbox: one row per (hook, sign-up), written in the sign-up's own
// transaction, so a crash can never lose a delivery nor send one for a rolled-back sign-up.
// Rows that travel together share a batch_id, which is the X-Poplet-Delivery header: it stays the
// same across retries so receivers can deduplicate. A batch refused as too large (413) loses its id
// and its rows go again under new ones; the id is never sent with other rows. Times the worker
// compares are epoch ms.
export const HOOKS_MIGRATIONS: Array<{ version: number; sql: string }> = [
  {
    version: 100,
    sql: `
CREATE TABLE hooks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  event TEXT NOT NULL DEFAULT 'email',
  target_url TEXT NOT NULL,
  wisepop_id INTEGER,
  created_at TEXT NOT NULL,
  last_error TEXT,
  last_error_at TEXT,
  last_success_at TEXT
);
-- NULLs are distinct in UNIQUE constraints; the expression makes "all campaigns" one value.
CREATE UNIQUE INDEX hooks_identity ON hooks(site_id, event, target_url, IFNULL(wisepop_id, -1));

CREATE TABLE hook_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  hook_id INTEGER NOT NULL REFERENCES hooks(id) ON DELETE CASCADE,
  signup_seq INTEGER NOT NULL REFERENCES signups(seq) ON DELETE CASCADE,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  batch_id TEXT,
  sent_ms INTEGER,
  last_error TEXT,
  UNIQUE (hook_id, signup_seq)
);
-- The worker's query: due pending rows, per hook, oldest first. Partial, so sent rows cost nothing.
CREATE INDEX hook_deliveries_due ON hook_deliveries(next_attempt_at, hook_id) WHERE status = 'pending';
CREATE INDEX hook_deliveries_hook ON hook_deliveries(hook_id, status);
CREATE INDEX hook_deliveries_batch ON hook_deliveries(batch_id) WHERE batch_id IS NOT NULL;
-- ON DELETE CASCADE from signups (erasure) needs an index on the child column.
CREATE INDEX hook_deliveries_signup ON hook_deliveries(signup_seq);
`,
  },
  {
    // The worker used to find due hooks by grouping every due pending row, on every tick (and it
    // ticks after every sign-up commit): 55 ms on the event loop with 160,000 rows waiting for a
    // receiver that has been down for a day. Each hook now carries the time it is next due, so the
    // worker reads an index of hooks, O(due hooks) whatever the backlog.
    //
    // next_due_at is NULL exactly when the hook has no pending delivery; otherwise it is the time
    // of its open batch (the one being retried) if any, else of its earliest pending row.
    // Every writer of pending rows keeps it (hooks/enqueue.ts, the retry route, hooks/worker.ts).
    // Rows deleted elsewhere (erasure, retention) are never lost work: they leave it early, which
    // the worker corrects when it finds nothing to claim, or, when a whole waiting batch goes, at
    // that batch's retry time, which the rows behind it were waiting for anyway.
    version: 101,
    sql: `
ALTER TABLE hooks ADD COLUMN next_due_at INTEGER;
CREATE INDEX hooks_due ON hooks(next_due_at) WHERE next_due_at IS NOT NULL;
-- hook_deliveries_due served only the old query; the two below keep recomputing one hook's due
-- time O(log n).
DROP INDEX hook_deliveries_due;
CREATE INDEX hook_deliveries_pending ON hook_deliveries(hook_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX hook_deliveries_open ON hook_deliveries(hook_id, id) WHERE status = 'pending' AND batch_id IS NOT NULL;
UPDATE hooks SET next_due_at = COALESCE(
  (SELECT next_attempt_at FROM hook_deliveries
   WHERE hook_id = hooks.id AND status = 'pending' AND batch_id IS NOT NULL ORDER BY id LIMIT 1),
  (SELECT MIN(next_attempt_at) FROM hook_deliveries WHERE hook_id = hooks.id AND status = 'pending'));
`,
  },
  {
    // The largest payload a hook's receiver is sent, learned from its 413 answers (worker.ts,
    // shrink), and until when (epoch ms) it holds: NULL when nothing was learned or it has lapsed.
    // Kept with the hook, not in the worker's memory, so a restart does not send again the bodies
    // the receiver refused, and it goes with the hook when the hook is deleted.
    version: 102,
    sql: `
ALTER TABLE hooks ADD COLUMN max_bytes INTEGER;
ALTER TABLE hooks ADD COLUMN max_bytes_until INTEGER;
`,
  },
];
