// DELETE /api1/emails?email=...: the right to erasure through the Email API (the policy promises
// two working days). Scoped to the site of the API key. The rows and the journal lines go before
// the answer; the purge of the database file is recorded as due and run by the server's purge job
// (lifecycle/purge.ts), whose due time the answer gives (purge_due_at). With POPLET_PURGE_WITHIN=0
// the answer waits for the purge too.
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../config';
import { requireApiKey } from '../auth';
import { createScrubQueue, eraseRows, journalErasure, scrubTargets } from './erase';
import { purgeDueChanged, purgerFor } from './purge';

export function registerErasureRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const auth = requireApiKey(deps);
  const journalDir = deps.config.journalDir || undefined;
  // The scrub streams the journal (it can be hundreds of MB) instead of holding the event loop;
  // the answer waits for it, so a 200 still means the address is gone everywhere.
  const scrubs = journalDir ? createScrubQueue(journalDir, deps.log) : null;
  // With POPLET_PURGE_WITHIN=0 only, the answer also waits for the database file's purge
  // (lifecycle/purge.ts), spaced out: erasures that arrive together share one. Looked up per use:
  // deps.db is the connection of the moment.
  const withinMs = deps.config.purgeWithinMinutes * 60_000;
  const purger = () => purgerFor(deps.db, deps.log);
  let closing = false;
  // preClose runs before fastify waits for in-flight requests: an erasure waiting for a lock that
  // a CLI erase holds would otherwise hold the shutdown for up to two minutes, and one waiting for
  // its purge's turn (POPLET_PURGE_WITHIN=0) for up to four times the last purge's duration.
  app.addHook('preClose', async () => {
    closing = true;
    scrubs?.stop();
    await purger().flush();
  });
  app.addHook('onClose', async () => {
    await scrubs?.idle();
  });

  app.delete('/api1/emails', { preHandler: auth }, async (request, reply) => {
    const email = (request.query as Record<string, unknown>).email;
    // Given twice (?email=a&email=b), the query holds a list: one address per request, so that
    // an erasure never takes more, or other, than the caller meant.
    if (Array.isArray(email)) return reply.code(422).send({ error: 'email is given more than once: erase one address per request' });
    if (typeof email !== 'string' || !email.trim()) return reply.code(422).send({ error: 'email is required' });
    // No address is longer (64 characters before the @, 255 after): it cannot have been collected.
    if (email.length > 320) return reply.code(422).send({ error: `email is too long: ${email.length} characters, an address has at most 320` });
    const site = request.site!.id;
    const r = eraseRows(deps.db, site, email, withinMs);
    if (journalDir) journalErasure(journalDir, site, email, r.at, r.idHashes);
    // Wakes the purge job: the purge is due in POPLET_PURGE_WITHIN minutes, or sooner when an
    // earlier delete's is; the file holds few of the rows' bytes meanwhile (secure_delete).
    const dueAt = purgeDueChanged(deps) ?? Date.now();
    // Both are logged where they fail. The rows are gone and the erase record keeps replays from
    // restoring them; asking again (idempotent: both run even with no row left) finishes the job.
    const [scrubbed, purged] = await Promise.allSettled([
      scrubs ? scrubs.scrub(scrubTargets(site, email, r.at)) : Promise.resolve(),
      withinMs === 0 ? purger().purge() : Promise.resolve(),
    ]);
    // The server began closing meanwhile: this connection was busy then, so it was not closed
    // with the idle ones, and kept alive it would hold the shutdown for the keep-alive time.
    if (closing) reply.header('connection', 'close');
    if (scrubbed.status === 'rejected') {
      return reply.code(503).header('retry-after', '60').send({ error: 'the sign-ups are deleted but the recovery journal could not be scrubbed yet: retry' });
    }
    if (purged.status === 'rejected') {
      return reply.code(503).header('retry-after', '60').send({ error: 'the sign-ups are deleted but the database file could not be purged of them yet: retry' });
    }
    return { deleted: r.signups, deliveries: r.deliveries, purge_due_at: new Date(dueAt).toISOString() };
  });
}
