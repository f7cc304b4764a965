// The hooks API of the Email API (seed: email-hooks-api.txt): create, list, delete; plus a
// re-send of failed deliveries once a receiver is fixed. Every route is scoped to the site of the
// API key. Hooks are not rate limited (the seed promises it): these routes use the auth
// preHandler without the per-key limiter. The rules and queries live in manage.ts, shared with
// the CLI.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerDeps } from '../config';
import { requireApiKey } from '../auth';
import { installOutbox } from './enqueue';
import { strictJsonParser } from '../json-body';
import { createHook, deleteHook, hookRules, HookInputError, listHooks, parseId, retryHook } from './manage';

export type { HookView } from './manage';

/**
 * hook_id from the query string or the JSON body: the seed says parameters are JSON-encoded, and
 * its own delete example puts hook_id in the URL, so both are accepted. Given in both with
 * different values, the request is refused rather than one of them picked: deleting the wrong
 * hook cannot be undone.
 */
function hookId(request: FastifyRequest): { id: number } | { error: string } {
  const query = (request.query as Record<string, unknown>).hook_id;
  const body: unknown = request.body;
  if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
    return { error: 'body must be a JSON object, e.g. {"hook_id":42}' };
  }
  const inBody = (body as Record<string, unknown> | null | undefined)?.hook_id;
  if (query === undefined && inBody === undefined) return { error: 'hook_id is required (in the query, ?hook_id=42, or the JSON body, {"hook_id":42})' };
  const fromQuery = query === undefined ? undefined : parseId(query);
  const fromBody = inBody === undefined ? undefined : parseId(inBody);
  if (fromQuery === null || fromBody === null) return { error: 'hook_id must be a positive integer' };
  if (fromQuery !== undefined && fromBody !== undefined && fromQuery !== fromBody) {
    return { error: `hook_id given twice with different values (query ${fromQuery}, body ${fromBody}): send it once` };
  }
  return { id: (fromQuery ?? fromBody)! };
}

export function registerHookRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { db } = deps;
  installOutbox();
  const auth = requireApiKey(deps, { rateLimit: false });
  const rules = hookRules(deps.config);

  app.post('/api1/hooks', { preHandler: auth }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      const { id, created } = await createHook(db, request.site!.id, { event: body.event, target_url: body.target_url, wisepop_id: body.wisepop_id }, rules);
      // Creating the same hook twice is idempotent: same id, 200 instead of 201.
      return reply.code(created ? 201 : 200).send({ id });
    } catch (e) {
      if (e instanceof HookInputError) return reply.code(422).send({ error: e.message });
      throw e;
    }
  });

  app.get('/api1/hooks', { preHandler: auth }, async (request) => listHooks(db, request.site!.id));

  // The routes taking hook_id, in a scope whose body parser reads an empty body as none: a client
  // that always sends `Content-Type: application/json` (as the seed asks) with the id in the
  // query and no body got fastify's "body cannot be empty" 400, and so did fetch's empty string
  // body, which it labels text/plain. Otherwise the parser of every route (json-body.ts).
  app.register(async (scope) => {
    const parse = strictJsonParser(scope.getDefaultJsonParser('error', 'error'), true);
    scope.removeContentTypeParser(['application/json', 'text/plain']);
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, parse);
    scope.addContentTypeParser('text/plain', { parseAs: 'buffer' }, parse);

    scope.delete('/api1/hooks', { preHandler: auth }, async (request, reply) => {
      const h = hookId(request);
      if ('error' in h) return reply.code(422).send({ error: h.error });
      if (!deleteHook(db, request.site!.id, h.id)) return reply.code(404).send({ error: 'hook not found' });
      return { id: h.id, deleted: true };
    });

    scope.post('/api1/hooks/retry', { preHandler: auth }, async (request, reply) => {
      const h = hookId(request);
      if ('error' in h) return reply.code(422).send({ error: h.error });
      const requeued = retryHook(db, request.site!.id, h.id);
      if (requeued === null) return reply.code(404).send({ error: 'hook not found' });
      return { id: h.id, requeued };
    });
  });
}
