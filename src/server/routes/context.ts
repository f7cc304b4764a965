// What the public routes share: the site cache, the trusted country header and the per-site
// origin check.
import type { FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config';
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
 * Browsers always send Origin on cross-origin POSTs; requests without one (curl, server-side
 * relays) are not subject to CORS and are let through.
 */
export function originAllowed(request: FastifyRequest, site: Site): boolean {
  const origin = request.headers.origin;
  return origin === undefined || site.origins.includes(origin);
}

/** The site id of a parsed public body, for rate-limit keys before validation. */
export function bodySite(body: unknown): string {
  const site = (body as { site?: unknown } | null)?.site;
  return typeof site === 'string' ? site.slice(0, 64) : '';
}
