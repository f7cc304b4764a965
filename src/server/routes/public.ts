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
import { CHUNK_FILES, isChunksHash } from '../../shared/chunks';

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

  // The SDK is loaded from here by every site, readable cross-origin and revalidated by ETag.
  const files = new Map<string, { mtimeMs: number; body: Buffer; etag: string }>();
  /** Sends a built file; false when there is none. */
  const sendFile = async (request: FastifyRequest, reply: FastifyReply, path: string, cache: string) => {
    const info = await stat(path).catch(() => undefined);
    if (!info) return false;
    let file = files.get(path);
    if (!file || file.mtimeMs !== info.mtimeMs) {
      const body = await readFile(path);
      file = { mtimeMs: info.mtimeMs, body, etag: etagOf(body) };
      files.set(path, file);
    }
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', cache)
      .header('access-control-allow-origin', '*')
      .header('cross-origin-resource-policy', 'cross-origin');
    return sendCached(request, reply, file.body, file.etag);
  };
  const notBuilt = (reply: FastifyReply, name: string) => reply.code(404).send({ error: `${name} is not built: run npm run build` });

  // Today's build: cacheable for a few minutes, so a new build reaches visitors quickly.
  const SHORT = 'public, max-age=300, stale-while-revalidate=86400';
  for (const name of ['poplet.js', ...CHUNK_FILES]) {
    app.get(`/${name}`, async (request, reply) => (await sendFile(request, reply, join(config.distDir, name), SHORT)) || notBuilt(reply, name));
  }
  // What the core asks for: a build's chunks by its key (dist/chunks/<key>/, see esbuild.config.ts).
  // Their bytes never change, so browsers and CDNs keep them for a year; the old core an upgrade
  // leaves in a browser cache still gets its own. A key this server has not kept (a pruned
  // build, another server's) gets today's chunk, which must not be cached under that key.
  for (const name of CHUNK_FILES) {
    app.get<{ Params: { key: string } }>(`/chunks/:key/${name}`, async (request, reply) => {
      const key = request.params.key;
      if (!isChunksHash(key)) return reply.code(404).send({ error: 'key: not a build key' });
      return (
        (await sendFile(request, reply, join(config.distDir, 'chunks', key, name), 'public, max-age=31536000, immutable')) ||
        (await sendFile(request, reply, join(config.distDir, name), 'no-cache')) ||
        notBuilt(reply, name)
      );
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
