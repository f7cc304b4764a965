// The hooks API of the Email API (seed: email-hooks-api.txt): create, list, delete; plus a
// re-send of failed deliveries once a receiver is fixed. Every route is scoped to the site of the
// API key. Hooks are not rate limited (the seed promises it): these routes use the auth
// preHandler without the per-key limiter.
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../config';
import { requireApiKey } from '../auth';
import { HookTargetError, vetTargetUrl } from './ssrf';
import { installOutbox } from './enqueue';

interface HookRow {
  id: number;
  event: string;
  target_url: string;
  wisepop_id: number | null;
  created_at: string;
  last_error: string | null;
  last_error_at: string | null;
  last_success_at: string | null;
  pending: number;
  retrying: number;
  failed: number;
  sent: number;
}

/** A hook as GET /api1/hooks shows it, with the state of its deliveries. */
export interface HookView extends Omit<HookRow, 'retrying'> {
  status: 'ok' | 'retrying' | 'failed';
}

function parseId(raw: unknown): number | null {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

export function registerHookRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { db } = deps;
  installOutbox();
  const auth = requireApiKey(deps, { rateLimit: false });
  const allowPrivate = Boolean(deps.config.allowPrivateHooks);

  const find = db.prepare<[string, string, string, number | null], { id: number }>(
    `SELECT id FROM hooks WHERE site_id = ? AND event = ? AND target_url = ? AND IFNULL(wisepop_id, -1) = IFNULL(?, -1)`,
  );
  const insert = db.prepare<[string, string, string, number | null, string]>(
    `INSERT INTO hooks (site_id, event, target_url, wisepop_id, created_at) VALUES (?, ?, ?, ?, ?)`,
  );
  const list = db.prepare<[string], HookRow>(
    `SELECT h.id, h.event, h.target_url, h.wisepop_id, h.created_at, h.last_error, h.last_error_at, h.last_success_at,
       COUNT(CASE WHEN d.status = 'pending' THEN 1 END) AS pending,
       COUNT(CASE WHEN d.status = 'pending' AND d.attempts > 0 THEN 1 END) AS retrying,
       COUNT(CASE WHEN d.status = 'failed' THEN 1 END) AS failed,
       COUNT(CASE WHEN d.status = 'sent' THEN 1 END) AS sent
     FROM hooks h LEFT JOIN hook_deliveries d ON d.hook_id = h.id
     WHERE h.site_id = ? GROUP BY h.id ORDER BY h.id`,
  );
  const remove = db.prepare<[number, string]>(`DELETE FROM hooks WHERE id = ? AND site_id = ?`);
  const requeue = db.prepare<[number, number, number, string]>(
    `UPDATE hook_deliveries SET status = 'pending', attempts = 0, created_ms = ?, next_attempt_at = ?, batch_id = NULL
     WHERE status = 'failed' AND hook_id = (SELECT id FROM hooks WHERE id = ? AND site_id = ?)`,
  );
  // Requeued rows become due like new sign-ups (enqueue.ts): now, unless the hook already waits
  // for something, in which case they wait behind it.
  const due = db.prepare<[number, number]>(`UPDATE hooks SET next_due_at = ? WHERE id = ? AND next_due_at IS NULL`);
  const requeueAll = db.transaction((id: number, siteId: string, now: number): number => {
    const n = requeue.run(now, now, id, siteId).changes;
    if (n > 0) due.run(now, id);
    return n;
  });
  const owned = db.prepare<[number, string], { id: number }>(`SELECT id FROM hooks WHERE id = ? AND site_id = ?`);

  app.post('/api1/hooks', { preHandler: auth }, async (request, reply) => {
    const siteId = request.site!.id;
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (body.event !== 'email') {
      return reply.code(422).send({ error: 'event must be "email" (the only supported event)' });
    }
    let wisepopId: number | null = null;
    if (body.wisepop_id !== undefined && body.wisepop_id !== null && body.wisepop_id !== '') {
      wisepopId = parseId(body.wisepop_id);
      if (wisepopId === null) return reply.code(422).send({ error: 'wisepop_id must be a positive integer' });
    }
    let target: string;
    try {
      target = (await vetTargetUrl(body.target_url, allowPrivate)).href;
    } catch (e) {
      if (e instanceof HookTargetError) return reply.code(422).send({ error: e.message });
      throw e;
    }
    // Creating the same hook twice is idempotent: same id, 200 instead of 201.
    const existing = find.get(siteId, 'email', target, wisepopId);
    if (existing) return reply.code(200).send({ id: existing.id });
    const id = Number(insert.run(siteId, 'email', target, wisepopId, new Date().toISOString()).lastInsertRowid);
    return reply.code(201).send({ id });
  });

  app.get('/api1/hooks', { preHandler: auth }, async (request) =>
    list.all(request.site!.id).map(({ retrying, ...h }): HookView => ({
      ...h,
      status: retrying > 0 ? 'retrying' : h.failed > 0 && !(h.last_success_at && h.last_success_at > (h.last_error_at ?? '')) ? 'failed' : 'ok',
    })),
  );

  app.delete('/api1/hooks', { preHandler: auth }, async (request, reply) => {
    const id = parseId((request.query as Record<string, unknown>).hook_id);
    if (id === null) return reply.code(422).send({ error: 'hook_id is required' });
    // Pending deliveries go with the hook (ON DELETE CASCADE).
    if (remove.run(id, request.site!.id).changes === 0) return reply.code(404).send({ error: 'hook not found' });
    return { id, deleted: true };
  });

  app.post('/api1/hooks/retry', { preHandler: auth }, async (request, reply) => {
    const id = parseId((request.query as Record<string, unknown>).hook_id);
    if (id === null) return reply.code(422).send({ error: 'hook_id is required' });
    if (!owned.get(id, request.site!.id)) return reply.code(404).send({ error: 'hook not found' });
    const now = Date.now();
    const requeued = requeueAll(id, request.site!.id, now);
    return { id, requeued };
  });
}
