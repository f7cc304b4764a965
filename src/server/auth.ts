// API-key authentication of the /api1 routes: `Authorization: WISEPOPS-API key="..."`.
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { ServerDeps } from './config';
import { createLimiter, type Limiter } from './rate-limit';
import { hashKey, sameHash } from './store/keys';
import { siteByKeyHash, touchSite, type Site } from './store/sites';
import { limitKey } from './routes/context';

declare module 'fastify' {
  interface FastifyRequest {
    /** The site of the API key, set by requireApiKey. */
    site?: Site;
  }
}

const SCHEME = /^WISEPOPS-API[ \t]+/i;
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
/** One auth-param (RFC 9110, 11.2): a name, `=` with optional spaces, a quoted string or a token; then a comma or the end. */
const PARAM = new RegExp(`(${TOKEN})[ \\t]*=[ \\t]*(?:"((?:[^"\\\\]|\\\\.)*)"|'([^']*)'|(${TOKEN}))[ \\t]*(?:,[ \\t]*|$)`, 'y');

/**
 * The key of `Authorization: WISEPOPS-API key="…"` in every spelling HTTP allows for it (RFC 9110,
 * 11.4): scheme and parameter name in any case, spaces around `=`, the value bare (`key=abc`, a
 * token like every key) or quoted with its `\` escapes, other parameters beside it; and quoted
 * with single quotes, as a client swapping the seed's quotes writes it. Null when the header is
 * none of these or names `key` twice.
 */
export function apiKeyOf(header: string): string | null {
  const scheme = SCHEME.exec(header);
  if (!scheme) return null;
  let key: string | null = null;
  let found = 0;
  PARAM.lastIndex = scheme[0].length;
  while (PARAM.lastIndex < header.length) {
    const m = PARAM.exec(header);
    if (!m) return null;
    if (m[1]!.toLowerCase() !== 'key') continue;
    found += 1;
    key = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? m[4]!);
  }
  return found === 1 && key && key.length <= 200 ? key : null;
}

/** Wrong keys per IP per minute before 429: makes guessing pointless even before the math does. */
const FAILURES_PER_MIN = 20;

interface Limiters {
  perKey: Limiter;
  failures: Limiter;
}
const limiters = new WeakMap<ServerDeps, Limiters>();

export function tooManyRequests(reply: FastifyReply, seconds: number) {
  return reply.code(429).header('retry-after', String(seconds)).send({ error: `rate limit exceeded, retry in ${seconds} s` });
}

/**
 * preHandler: 401 on a missing or wrong key, 403 when the request names another site (route
 * param `siteId` or query `site`), 429 with Retry-After past the per-key limit (unless
 * `rateLimit: false`: the seed promises hooks are not rate limited). Sets `request.site`.
 */
export function requireApiKey(deps: ServerDeps, opts: { rateLimit?: boolean } = {}): preHandlerAsyncHookHandler {
  let l = limiters.get(deps);
  if (!l) {
    l = { perKey: createLimiter(deps.config.apiPerMinute), failures: createLimiter(FAILURES_PER_MIN) };
    limiters.set(deps, l);
  }
  const { perKey, failures } = l;
  const limited = opts.rateLimit !== false;

  return async function apiKey(request: FastifyRequest, reply: FastifyReply) {
    // node:http keeps the first of two Authorization headers and drops the other unseen: a proxy
    // or client library that reads the last would act for another key than this server.
    if (request.raw.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'authorization').length > 1) {
      return reply.code(400).send({ error: 'authorization: sent more than once; send one API key' });
    }
    const key = apiKeyOf(request.headers.authorization ?? '');
    if (!key) return reply.code(401).header('www-authenticate', 'WISEPOPS-API').send({ error: 'missing API key: Authorization: WISEPOPS-API key="..."' });
    // An IP over the limit of wrong keys has its keys refused unchecked: were a right one let
    // through, its 200 among the 429s would tell a guesser it had found one, at any speed.
    const held = failures.peek(limitKey(request));
    if (held) return tooManyRequests(reply, held);
    const hash = hashKey(key);
    const site = siteByKeyHash(deps.db, hash);
    // The lookup is by hash, so its timing says nothing about the key; compare again anyway.
    if (!site || !sameHash(site.key_hash, hash)) {
      failures.take(limitKey(request));
      return reply.code(401).header('www-authenticate', 'WISEPOPS-API').send({ error: 'invalid API key' });
    }
    const named =
      (request.params as Record<string, unknown> | undefined)?.siteId ?? (request.query as Record<string, unknown> | undefined)?.site;
    if (named !== undefined && named !== site.id) return reply.code(403).send({ error: 'this API key belongs to another site' });
    if (limited) {
      const wait = perKey.take(hash);
      if (wait) return tooManyRequests(reply, wait);
    }
    touchSite(deps.db, site.id);
    const { key_hash: _omit, ...rest } = site;
    request.site = rest;
  };
}
