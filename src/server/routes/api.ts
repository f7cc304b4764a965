// The Email API (seed: email-hooks-api.txt) and the stats read: GET /api1/emails, GET /api1/stats.
// Not CORS-enabled: API keys belong on servers, never in a browser page.
import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../config';
import { requireApiKey } from '../auth';
import { listEmails } from '../store/signups';
import { countStats, dayIn, readNewestStats, readStats } from '../store/events';

const DAY = 86_400_000;
/** Longest window of one /api1/stats answer: a leap year. */
export const MAX_STATS_DAYS = 366;
/**
 * Largest /api1/stats answer over a range the caller chose (`from`), in daily rows and goal-name
 * rows: a year of 10 campaigns with 3 groups fits, and no answer is held in memory at a size a
 * poller could multiply. A plain request (the default 30 days) must not fail, yet its rows are
 * only as bounded as what /events and /collect count: it gets the newest rows up to the same cap
 * and the header `Poplet-Truncated: true` when older ones were left out (the body stays the
 * Wisepops-shaped array).
 */
export const TRUNCATED_HEADER = 'poplet-truncated';
export const MAX_STATS_ROWS = 20_000;
export const MAX_STATS_GOAL_ROWS = 100_000;

/**
 * Whether `YYYY-MM-DD` names a day of the calendar. Date.parse rolls 2026-02-30 over to March
 * and gives NaN for 9999-99-99, so the day must read back unchanged.
 */
export function isDay(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === value;
}

/**
 * ISO date or date-time; without an offset it is read as UTC (never as the server's zone). A query
 * string reads `+` as a space, so `…T12:10:58+02:00` sent unencoded (as curl sends what is typed)
 * arrives as `…T12:10:58 02:00`: a space between a time and an offset can only have been that `+`.
 */
export function parseIsoMs(raw: string): number | null {
  const value = raw.replace(/(\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?) (\d{2}:?\d{2})$/, '$1+$2');
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(value)) return null;
  if (!isDay(value.slice(0, 10))) return null;
  const utc = /T|\s/i.test(value) && !/(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value + 'Z' : value;
  const ms = Date.parse(utc.replace(' ', 'T'));
  return Number.isNaN(ms) ? null : ms;
}

const emailRowSchema = {
  type: 'object',
  properties: {
    collected_at: { type: 'string' },
    email: { type: 'string' },
    wisepop_id: { type: 'integer' },
    ip: { type: 'string' },
    country_code: { type: ['string', 'null'] },
    other_fields: { type: 'object', additionalProperties: { type: 'string' } },
    // Poplet's addition (store/signups.ts, emailRow): the serializer drops keys not listed here.
    consent: { type: ['string', 'null'] },
  },
} as const;

const DATE = '^\\d{4}-\\d{2}-\\d{2}$';
/**
 * Past this, OFFSET overflows SQLite's integer (a 500 instead of an answer); a million pages of
 * up to 1,000 rows is more than any site holds.
 */
export const MAX_PAGE = 1_000_000;
/** Campaign ids are safe integers; a larger number cannot name one exactly. */
const CAMPAIGN_ID = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;

/**
 * The first of `names` that ajv let through as a non-finite number: it coerces "1e400" to
 * Infinity and skips minimum/maximum for numbers that are not finite.
 */
function infinite(query: object, names: string[]): string | undefined {
  return names.find((n) => {
    const v = (query as Record<string, unknown>)[n];
    return typeof v === 'number' && !Number.isFinite(v);
  });
}
const tooLarge = (name: string) => ({ error: `${name}: must be a whole number in range` });

export function registerApiRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const auth = requireApiKey(deps);

  app.get<{ Querystring: { collected_after?: string; wisepop_id?: number; page: number; page_size: number; site?: string } }>(
    '/api1/emails',
    {
      preHandler: auth,
      schema: {
        querystring: {
          type: 'object',
          properties: {
            collected_after: { type: 'string', maxLength: 40 },
            wisepop_id: CAMPAIGN_ID,
            page: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 1 },
            page_size: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            site: { type: 'string', maxLength: 64 },
          },
        },
        response: { 200: { type: 'array', items: emailRowSchema } },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const bad = infinite(q, ['page', 'page_size', 'wisepop_id']);
      if (bad) return reply.code(400).send(tooLarge(bad));
      let afterMs: number | undefined;
      if (q.collected_after !== undefined) {
        const ms = parseIsoMs(q.collected_after);
        if (ms === null) return reply.code(400).send({ error: 'collected_after: must be an ISO 8601 date, e.g. 2019-10-10T10:10:58.389Z' });
        afterMs = ms;
      }
      return listEmails(deps.db, request.site!.id, {
        afterMs,
        wisepopId: q.wisepop_id,
        limit: q.page_size,
        offset: (q.page - 1) * q.page_size,
      });
    },
  );

  app.get<{ Querystring: { from?: string; to?: string; wisepop_id?: number; variant?: string; site?: string } }>(
    '/api1/stats',
    {
      preHandler: auth,
      schema: {
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'string', pattern: DATE },
            to: { type: 'string', pattern: DATE },
            wisepop_id: CAMPAIGN_ID,
            // What /events accepts as a group; the no-test rows (variant null) have no filter value.
            variant: { type: 'string', minLength: 1, maxLength: 64 },
            site: { type: 'string', maxLength: 64 },
          },
        },
      },
    },
    async (request, reply) => {
      const site = request.site!;
      if (infinite(request.query, ['wisepop_id'])) return reply.code(400).send(tooLarge('wisepop_id'));
      for (const name of ['from', 'to'] as const) {
        const value = request.query[name];
        if (value !== undefined && !isDay(value)) return reply.code(400).send({ error: `${name}: must be a day of the calendar, YYYY-MM-DD` });
      }
      const to = request.query.to ?? dayIn(Date.now(), site.timezone);
      // The 30 days up to `to`, from year 0 at the earliest (a `to` in year 1 is a day too, and
      // dayIn writes years before 1000 without their zeros, which would not compare as days).
      const from = request.query.from ?? new Date(Math.max(Date.parse(to) - 29 * DAY, Date.parse('0000-01-01'))).toISOString().slice(0, 10);
      if (from > to) return reply.code(400).send({ error: 'from: must not be after to' });
      if (Date.parse(to) - Date.parse(from) >= MAX_STATS_DAYS * DAY) {
        return reply.code(400).send({ error: `from: at most ${MAX_STATS_DAYS} days from from to to; ask for the rest in another request` });
      }
      const query = { from, to, campaign: request.query.wisepop_id, variant: request.query.variant };
      if (request.query.from === undefined) {
        const { rows, truncated } = readNewestStats(deps.db, site.id, query, { rows: MAX_STATS_ROWS, goalRows: MAX_STATS_GOAL_ROWS });
        if (truncated) reply.header(TRUNCATED_HEADER, 'true');
        return rows;
      }
      const size = countStats(deps.db, site.id, query);
      if (size.rows > MAX_STATS_ROWS || size.goalRows > MAX_STATS_GOAL_ROWS) {
        return reply.code(400).send({
          error: `from: ${size.rows} rows (${size.goalRows} goal names) are more than one answer holds (${MAX_STATS_ROWS}, ${MAX_STATS_GOAL_ROWS}): ask for fewer days or one wisepop_id`,
        });
      }
      return readStats(deps.db, site.id, query);
    },
  );
}
