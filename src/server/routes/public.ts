// Public GETs: the campaign set the SDK loads, the SDK files themselves, and /healthz.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerDeps } from '../config';
import type { CampaignSet } from '../../shared/campaign';
import type { SiteCache } from '../site-cache';
import { liveCampaigns } from '../store/campaigns';
import { visitorCountry } from './context';
import { isChunksHash } from '../../shared/chunks';

const etagOf = (body: string | Buffer) => `"${createHash('sha1').update(body).digest('base64url')}"`;

/** 304 when the client already has this version. */
function sendCached(request: FastifyRequest, reply: FastifyReply, body: string | Buffer, etag: string) {
  reply.header('etag', etag);
  const inm = request.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return reply.code(304).send();
  return reply.send(body);
}

export function registerPublicRoutes(app: FastifyInstance, deps: ServerDeps & { sites: SiteCache }): void {
  const { config, db, log } = deps;

  app.get<{ Params: { siteId: string } }>('/sites/:siteId/campaigns.json', async (request, reply) => {
    const site = deps.sites.get(request.params.siteId);
    if (!site) return reply.code(404).send({ error: 'site: unknown site' });
    const set: CampaignSet = {
      site: site.id,
      timezone: site.timezone,
      country: visitorCountry(request, config),
      campaigns: liveCampaigns(db, site.id, (line) => log.warn({ site: site.id, skipped: line }, 'stored campaign is invalid')),
    };
    const body = JSON.stringify(set);
    // Public, the same for every origin; the country makes it vary per visitor's country only.
    reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('cache-control', 'public, max-age=60, stale-while-revalidate=300')
      .header('access-control-allow-origin', '*')
      .header('cross-origin-resource-policy', 'cross-origin');
    if (config.countryHeader) reply.header('vary', config.countryHeader);
    return sendCached(request, reply, body, etagOf(body));
  });

  // The SDK is loaded from here by every site: cacheable for a few minutes (a new build reaches
  // visitors quickly), revalidated by ETag, readable cross-origin. A chunk asked for with a build's
  // key (`?v=`, what the core asks for) that the build kept in dist/chunks/ never changes: cached
  // for a year, and the old core an upgrade leaves in a browser cache still gets its own chunks.
  const files = new Map<string, { mtimeMs: number; body: Buffer; etag: string }>();
  for (const name of ['poplet.js', 'poplet.ui.js', 'poplet.collect.js']) {
    app.get<{ Querystring: { v?: string } }>(`/${name}`, async (request, reply) => {
      const v = request.query.v;
      const kept = name != 'poplet.js' && isChunksHash(v) ? join(config.distDir, 'chunks', v, name) : '';
      let path = kept || join(config.distDir, name);
      let info = await stat(path).catch(() => undefined);
      // An unknown key (a build pruned since, or another server's) gets today's chunk.
      if (!info && kept) info = await stat((path = join(config.distDir, name))).catch(() => undefined);
      if (!info) return reply.code(404).send({ error: `${name} is not built: run npm run build` });
      let file = files.get(path);
      if (!file || file.mtimeMs !== info.mtimeMs) {
        const body = await readFile(path);
        file = { mtimeMs: info.mtimeMs, body, etag: etagOf(body) };
        files.set(path, file);
      }
      reply
        .header('content-type', 'text/javascript; charset=utf-8')
        .header('cache-control', kept == path ? 'public, max-age=31536000, immutable' : 'public, max-age=300, stale-while-revalidate=86400')
        .header('access-control-allow-origin', '*')
        .header('cross-origin-resource-policy', 'cross-origin');
      return sendCached(request, reply, file.body, file.etag);
    });
  }

  app.get('/healthz', async (_request, reply) => {
    try {
      db.prepare('SELECT 1').get();
      return reply.header('cache-control', 'no-store').send({ ok: true });
    } catch (e) {
      log.error({ err: e }, 'healthz: database unavailable');
      return reply.code(503).send({ error: 'database unavailable' });
    }
  });
}
