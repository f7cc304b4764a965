// Hook management shared by the hooks API (routes.ts) and the CLI (`poplet hook ...`): one copy of
// the rules a hook must meet (event, target_url with its SSRF and HTTPS checks, wisepop_id) and of
// the queries, so the two ways of managing hooks can never accept different things.
import type Database from 'better-sqlite3';
import { httpsPolicy, type ServerConfig } from '../config';
import { HookTargetError, vetTargetUrl, type Resolver } from './ssrf';

type Db = Database.Database;

/** A hook the caller asked for is invalid: 422 in the API, an error message in the CLI. */
export class HookInputError extends Error {}

/** What a target must meet on this server, from its configuration. */
export interface HookRules {
  /** POPLET_ALLOW_PRIVATE_HOOKS: the SSRF guard is off. */
  allowPrivate: boolean;
  /** POPLET_REQUIRE_HTTPS in effect: sign-ups never leave over plain http. */
  httpsOnly: boolean;
  /** DNS, replaceable by tests. */
  resolve?: Resolver;
}

export function hookRules(config: ServerConfig): HookRules {
  return { allowPrivate: Boolean(config.allowPrivateHooks), httpsOnly: httpsPolicy(config).required };
}

interface HookRow {
  id: number;
  event: string;
  target_url: string;
  wisepop_id: number | null;
  created_at: string;
  last_error: string | null;
  last_error_at: string | null;
  last_success_at: string | null;
  max_bytes: number | null;
  max_bytes_until: number | null;
  pending: number;
  retrying: number;
  failed: number;
  sent: number;
}

/** A hook as GET /api1/hooks shows it, with the state of its deliveries. */
export interface HookView extends Omit<HookRow, 'retrying' | 'max_bytes' | 'max_bytes_until'> {
  status: 'ok' | 'retrying' | 'failed';
  /**
   * The payload size learned from the receiver's 413s (worker.ts, shrink) while it holds, and until
   * when: the answer to "why do my batches come small?". Null: payloads go up to 1 MiB.
   */
  max_payload_bytes: number | null;
  max_payload_until: string | null;
}

/**
 * A positive integer id from JSON (number) or a query string / CLI word (digits); else null. Up to
 * 16 digits: a campaign id is any safe integer (as /collect takes it), and the safe check refuses
 * the 16-digit ones past it, which Number() would round.
 */
export function parseId(raw: unknown): number | null {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

function prepare(db: Db) {
  const requeue = db.prepare<[number, number, number, string]>(
    `UPDATE hook_deliveries SET status = 'pending', attempts = 0, created_ms = ?, next_attempt_at = ?, batch_id = NULL
     WHERE status = 'failed' AND hook_id = (SELECT id FROM hooks WHERE id = ? AND site_id = ?)`,
  );
  // Requeued rows become due like new sign-ups (enqueue.ts): now, unless the hook already waits
  // for something, in which case they wait behind it.
  const due = db.prepare<[number, number]>(`UPDATE hooks SET next_due_at = ? WHERE id = ? AND next_due_at IS NULL`);
  // A retry is the owner saying the receiver was fixed: a size learned from its 413s (worker.ts,
  // shrink) goes too, so a limit raised before it gets full batches back at once.
  const unlearn = db.prepare<[number]>(`UPDATE hooks SET max_bytes = NULL, max_bytes_until = NULL WHERE id = ?`);
  return {
    find: db.prepare<[string, string, string, number | null], { id: number }>(
      `SELECT id FROM hooks WHERE site_id = ? AND event = ? AND target_url = ? AND IFNULL(wisepop_id, -1) = IFNULL(?, -1)`,
    ),
    insert: db.prepare<[string, string, string, number | null, string]>(
      `INSERT INTO hooks (site_id, event, target_url, wisepop_id, created_at) VALUES (?, ?, ?, ?, ?)`,
    ),
    list: db.prepare<[string], HookRow>(
      `SELECT h.id, h.event, h.target_url, h.wisepop_id, h.created_at, h.last_error, h.last_error_at, h.last_success_at,
         h.max_bytes, h.max_bytes_until,
         COUNT(CASE WHEN d.status = 'pending' THEN 1 END) AS pending,
         COUNT(CASE WHEN d.status = 'pending' AND d.attempts > 0 THEN 1 END) AS retrying,
         COUNT(CASE WHEN d.status = 'failed' THEN 1 END) AS failed,
         COUNT(CASE WHEN d.status = 'sent' THEN 1 END) AS sent
       FROM hooks h LEFT JOIN hook_deliveries d ON d.hook_id = h.id
       WHERE h.site_id = ? GROUP BY h.id ORDER BY h.id`,
    ),
    remove: db.prepare<[number, string]>(`DELETE FROM hooks WHERE id = ? AND site_id = ?`),
    owned: db.prepare<[number, string], { id: number }>(`SELECT id FROM hooks WHERE id = ? AND site_id = ?`),
    requeueAll: db.transaction((id: number, siteId: string, now: number): number => {
      const n = requeue.run(now, now, id, siteId).changes;
      if (n > 0) due.run(now, id);
      unlearn.run(id);
      return n;
    }),
  };
}

// Prepared once per connection: the API calls these on every request.
const statements = new WeakMap<Db, ReturnType<typeof prepare>>();
function st(db: Db): ReturnType<typeof prepare> {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = prepare(db)));
  return s;
}

export interface NewHook {
  event: unknown;
  target_url: unknown;
  wisepop_id?: unknown;
}

/**
 * Validates and stores a hook of `siteId` (which must exist). Creating the same hook twice is
 * idempotent: the existing id with `created: false`. Throws HookInputError when the input breaks
 * a rule.
 */
export async function createHook(db: Db, siteId: string, input: NewHook, rules: HookRules): Promise<{ id: number; created: boolean }> {
  if (input.event !== 'email') throw new HookInputError('event must be "email" (the only supported event)');
  let wisepopId: number | null = null;
  if (input.wisepop_id !== undefined && input.wisepop_id !== null && input.wisepop_id !== '') {
    wisepopId = parseId(input.wisepop_id);
    if (wisepopId === null) throw new HookInputError('wisepop_id must be a positive integer');
  }
  let target: string;
  try {
    target = (await vetTargetUrl(input.target_url, rules.allowPrivate, rules.resolve, rules.httpsOnly)).href;
  } catch (e) {
    if (e instanceof HookTargetError) throw new HookInputError(e.message);
    throw e;
  }
  const s = st(db);
  const existing = s.find.get(siteId, 'email', target, wisepopId);
  if (existing) return { id: existing.id, created: false };
  return { id: Number(s.insert.run(siteId, 'email', target, wisepopId, new Date().toISOString()).lastInsertRowid), created: true };
}

/** The payload size learned from the hook's 413s (worker.ts, shrink) while it holds, else Infinity. */
export function learnedBytes(hook: { max_bytes: number | null; max_bytes_until: number | null }, at: number): number {
  return hook.max_bytes !== null && (hook.max_bytes_until ?? 0) > at ? hook.max_bytes : Infinity;
}

export function listHooks(db: Db, siteId: string, now = Date.now()): HookView[] {
  return st(db)
    .list.all(siteId)
    .map(({ retrying, max_bytes, max_bytes_until, ...h }): HookView => {
      const learned = learnedBytes({ max_bytes, max_bytes_until }, now) !== Infinity;
      return {
        ...h,
        status: retrying > 0 ? 'retrying' : h.failed > 0 && !(h.last_success_at && h.last_success_at > (h.last_error_at ?? '')) ? 'failed' : 'ok',
        max_payload_bytes: learned ? max_bytes : null,
        max_payload_until: learned ? new Date(max_bytes_until!).toISOString() : null,
      };
    });
}

/** False when the site has no such hook (another site's hook included). */
export function deleteHook(db: Db, siteId: string, id: number): boolean {
  // Pending deliveries go with the hook (ON DELETE CASCADE).
  return st(db).remove.run(id, siteId).changes > 0;
}

/** Sends the hook's failed deliveries again: how many were requeued, or null if the site has no such hook. */
export function retryHook(db: Db, siteId: string, id: number, now = Date.now()): number | null {
  const s = st(db);
  if (!s.owned.get(id, siteId)) return null;
  return s.requeueAll(id, siteId, now);
}
