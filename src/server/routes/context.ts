// What the public routes share: the site cache, the trusted country header and the per-site
// origin check.
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config';
import type { Log } from '../log';
import type { Site } from '../store/sites';

/** ISO country from the trusted CDN header, or null (header not configured, absent, or junk). */
export function visitorCountry(request: FastifyRequest, config: ServerConfig): string | null {
  if (!config.countryHeader) return null;
  const raw = request.headers[config.countryHeader];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim().toUpperCase();
  // Cloudflare also sends XX (unknown) and T1 (Tor): kept, they are useful against spam.
  return value && /^[A-Z][A-Z0-9]$/.test(value) ? value : null;
}

/**
 * The client's address, what limitKey keys the rate limits by: fastify's request.ip (the
 * socket's peer, or a trusted proxy's X-Forwarded-For) in one form per address. An IPv4 address is dotted: a server
 * listening on a dual-stack address (POPLET_HOST=::) sees IPv4 clients as IPv4-mapped IPv6
 * (`::ffff:203.0.113.9`), and so may a proxy's X-Forwarded-For. The port some proxies write after
 * the address (Azure Application Gateway, IIS ARR: `203.0.113.9:51234`, `[2001:db8::7]:443`) is
 * dropped: it changes with every connection, so a limit per address and port limited nothing.
 * Anything else is left as it is, which may be no IP at all.
 */
export function clientAddress(request: FastifyRequest): string {
  // Undefined, whatever fastify's type says, when the client reset its connection before the
  // server had accepted it (connections.ts reads it then).
  const raw = (request.ip as string | undefined) ?? '';
  const unbracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(raw)?.[1] ?? raw;
  return /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?$/i.exec(unbracketed)?.[1] ?? unbracketed;
}

/** The 16-bit groups of part of an IPv6 address; an IPv4 tail (`::1.2.3.4`) takes two. */
const ipv6Groups = (part: string | undefined) => (part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);

/**
 * The key of the per-IP rate limits (POST /collect, POST /events, wrong API keys): the client's
 * address, but for IPv6 its /64. A home connection, a phone or a rented server is given a whole
 * /64 (2^64 addresses) and may send from any of them, so a limit per full IPv6 address limited
 * nothing: each request from a new address in the same /64 came with a full allowance.
 */
export function limitKey(request: FastifyRequest): string {
  const ip = clientAddress(request);
  const bare = ip.split('%')[0]!;
  if (isIP(bare) !== 6) return ip;
  const [head, tail] = bare.split('::');
  const h = ipv6Groups(head);
  const t = ipv6Groups(tail);
  const groups = [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/**
 * The visitor's IP as the Email API and hooks give it (clientAddress): a consumer written for
 * Wisepops' `"ip": "127.0.0.1"` expects the address alone. Empty when there is none: a client that
 * reset its connection before the server accepted it (the sign-up arrived in full all the same,
 * and is stored without it rather than failing its NOT NULL column), or a trusted proxy's
 * X-Forwarded-For holding any other text (`unknown`, a client's own made-up value).
 */
export function visitorIp(request: FastifyRequest): string {
  const ip = clientAddress(request);
  return isIP(ip) ? ip : '';
}

/**
 * Browsers always send Origin on cross-origin POSTs; requests without one (curl, server-side
 * relays) are not subject to CORS and are let through.
 */
export function originAllowed(request: FastifyRequest, site: Site): boolean {
  const origin = request.headers.origin;
  return origin === undefined || site.origins.includes(origin);
}

export interface OriginRefusals {
  /** Notes a request refused for its origin; logs a warning once per site and origin per `windowMs`. */
  refused(site: Site, origin: string, now?: number): void;
}

/**
 * A site whose allowed origins miss one of its real hosts (www. or not, a new domain) loses every
 * sign-up from it: the visitor sees an error, the owner sees nothing unless told. One warning per
 * site and origin an hour tells them without letting a stream of refused posts flood the log;
 * the memory is bounded, as the origins are whatever the requests claim.
 */
export function createOriginRefusals(log: Log, windowMs = 3_600_000, maxKeys = 1000): OriginRefusals {
  const last = new Map<string, number>();
  return {
    refused(site, origin, now = Date.now()) {
      const key = JSON.stringify([site.id, origin]);
      const at = last.get(key);
      if (at !== undefined && now - at < windowMs) return;
      if (at === undefined && last.size >= maxKeys) {
        for (const [k, t] of last) if (now - t >= windowMs) last.delete(k);
        if (last.size >= maxKeys) return;
      }
      last.set(key, now);
      log.warn(
        { site: site.id, origin: origin.slice(0, 200), allowed: site.origins },
        'origin not allowed for this site: its sign-ups and events are refused (403); if it is yours, add it with `poplet site origins`',
      );
    },
  };
}

/**
 * The group a count of `campaign` goes under, or null for none at all, by the one rule /collect and
 * /events share (anyone can post to both, and every distinct campaign and group is a stats row):
 * a campaign counts if the site has it (`configured`: the groups it can report) or has /events
 * counts of it (`counted`, asked only off the common path); a group it neither can report nor has
 * counts under goes under no group (''). So made-up ids create no rows, while an ended A/B test
 * or a deleted campaign still gets its late events.
 */
export function countGroup(configured: Set<string> | undefined, group: string, counted: () => Set<string>): string | null {
  if (!configured && counted().size === 0) return null;
  return group === '' || configured?.has(group) || counted().has(group) ? group : '';
}

/** The site id of a parsed public body, for rate-limit keys before validation. */
export function bodySite(body: unknown): string {
  const site = (body as { site?: unknown } | null)?.site;
  return typeof site === 'string' ? site.slice(0, 64) : '';
}
