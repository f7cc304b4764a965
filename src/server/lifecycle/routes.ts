// DELETE /api1/emails?email=...: the right to erasure through the Email API, immediate (the
// policy promises two working days). Scoped to the site of the API key.
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../config';
import { requireApiKey } from '../auth';
import { eraseEmail } from './erase';

export function registerErasureRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const auth = requireApiKey(deps);
  app.delete('/api1/emails', { preHandler: auth }, async (request, reply) => {
    const email = (request.query as Record<string, unknown>).email;
    if (typeof email !== 'string' || !email.trim() || email.length > 320) {
      return reply.code(422).send({ error: 'email is required' });
    }
    const r = eraseEmail(deps.db, request.site!.id, email, deps.config.journalDir || undefined);
    return { deleted: r.signups, deliveries: r.deliveries };
  });
}
