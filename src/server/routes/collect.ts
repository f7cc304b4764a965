// POST /collect: stores a sign-up and answers only once it is committed.
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../config';
import { validateSignup, type CollectResponse, type SignupPayload } from '../../shared/signup';
import { tooManyRequests } from '../auth';
import { createLimiter } from '../rate-limit';
import type { SiteCache } from '../site-cache';
import type { SignupWriter } from '../store/signup-writer';
import { countedGroups } from '../store/events';
import type { Journal } from '../lifecycle/journal';
import { bodySite, countGroup, limitKey, originAllowed, type OriginRefusals, visitorCountry, visitorIp } from './context';

export interface CollectDeps extends ServerDeps {
  sites: SiteCache;
  writer: SignupWriter;
  journal: Journal | null;
  refusals: OriginRefusals;
}

/**
 * Above the largest sign-up the schema takes, sent as the SDK sends it (compact JSON): 50 fields
 * of 1,000 characters that take 3 bytes each in UTF-8, their names, and escaped consent, honeypot
 * and variant text come to about 172 KB. The server's 16 KB limit refused sign-ups that
 * validateSignup allows, and a refusal is final: the form could only show an error.
 */
export const COLLECT_BODY_LIMIT = 192 * 1024;

export function registerCollectRoute(app: FastifyInstance, deps: CollectDeps): void {
  const limiter = createLimiter(deps.config.collectPerMinute);

  app.post('/collect', { bodyLimit: COLLECT_BODY_LIMIT }, async (request, reply) => {
    const body = request.body;
    const siteId = bodySite(body);
    const wait = limiter.take(`${limitKey(request)}|${siteId}`);
    if (wait) return tooManyRequests(reply, wait);
    const error = validateSignup(body);
    if (error) return reply.code(422).send({ error });
    const p = body as SignupPayload;
    const site = deps.sites.get(p.site);
    if (!site) return reply.code(404).send({ error: 'site: unknown site' });
    if (!originAllowed(request, site)) {
      deps.refusals.refused(site, request.headers.origin!);
      return reply.code(403).send({ error: 'origin: not allowed for this site' });
    }
    // A bot that filled the hidden field gets the answer a new sign-up gets (201, not the 200 of
    // a duplicate: the status must not tell it that it was caught), and nothing is stored.
    if (p.hp) {
      const fake: CollectResponse = { id: p.id, collected_at: new Date().toISOString() };
      return reply.code(201).send(fake);
    }
    const ip = visitorIp(request);
    const country = visitorCountry(request, deps.config);
    // Every valid sign-up is stored (the Email API shows it); it is counted in the stats by the
    // rule /events uses, so a made-up id never becomes a campaign /events then counts.
    let counted: Set<string> | undefined;
    const countAs = countGroup(deps.sites.campaignGroups(site.id).get(p.wisepop_id), p.variant ?? '', () => (counted ??= countedGroups(deps.db, site.id, p.wisepop_id)));
    const result = await deps.writer.write({
      site_id: site.id,
      client_id: p.id,
      email: p.email.trim(),
      wisepop_id: p.wisepop_id,
      ip,
      country_code: country,
      other_fields: p.fields ?? {},
      consent: p.consent ?? null,
      variant: p.variant ?? null,
      count_as: countAs,
    });
    // A retry of a sign-up since erased (or expired): the 200 of a duplicate, and nothing stored,
    // journaled, counted or delivered (store/tombstones.ts). The browser drops it from its outbox.
    if (result.erased) return reply.code(200).send({ id: p.id, collected_at: result.erased.collected_at } satisfies CollectResponse);
    const { row, created } = result;
    if (created && deps.journal) {
      try {
        deps.journal.append(p, { collected_at: row.collected_at, ip, country_code: country });
      } catch (e) {
        // The row is committed: a journal failure must not turn it into an error and a retry.
        deps.log.error({ err: e }, 'journal append failed');
      }
    }
    const answer: CollectResponse = { id: p.id, collected_at: row.collected_at };
    return reply.code(created ? 201 : 200).send(answer);
  });
}
