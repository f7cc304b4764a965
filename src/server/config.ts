// Server configuration from the environment and command-line flags, and the dependencies every
// route, worker and CLI command receives.
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { Db } from './store/db';
import type { Log } from './log';

export interface ServerConfig {
  dataDir: string;
  dbPath: string;
  host: string;
  port: number;
  /** Trusted CDN header carrying the visitor's ISO country (e.g. cf-ipcountry); null: none. */
  countryHeader: string | null;
  /** fastify trustProxy: true, a hop count, or a comma list of addresses/CIDRs. */
  trustProxy: boolean | number | string;
  /** Let hooks post to private/loopback addresses (SSRF guard off). For tests and LANs. */
  allowPrivateHooks: boolean;
  /**
   * HTTPS for the API and for hook targets; 'auto' decides from `host` and `trustProxy`
   * (httpsPolicy below), so it follows them however they were set.
   */
  requireHttps: boolean | 'auto';
  /** SQLite synchronous mode; see store/db.ts for the trade-off. */
  synchronous: 'full' | 'normal';
  /** Recovery journal folder; '' turns the journal off. */
  journalDir: string;
  backupDir: string;
  /** Sign-ups older than this are erased by the retention job; 0 keeps them forever. */
  retentionDays: number;
  /** Days a backup is kept: rotation deletes backups this old (the policy's "stored for 7 days"). */
  backupKeep: number;
  /**
   * The server takes a backup into backupDir when the newest one there is this many hours old
   * (lifecycle/backup.ts, startBackupJob); 0: it takes none (cron, volume snapshots).
   */
  backupEveryHours: number;
  /**
   * Minutes within which the database file is purged of what an erasure, a retention run or a
   * replay deleted (lifecycle/purge.ts): one purge for every delete recorded, this long after the
   * first of them; 0: at once, and an erasure's answer waits for it.
   */
  purgeWithinMinutes: number;
  /**
   * How often the server looks for purges recorded by other processes (`poplet erase`, `poplet
   * purge`). Not from the environment: a minute, shorter in tests.
   */
  purgeCheckMs: number;
  /** Per IP and site, per minute. */
  collectPerMinute: number;
  eventsPerMinute: number;
  /** Per API key, per minute. */
  apiPerMinute: number;
  /** Directory served as /poplet.js, /poplet.ui.js and /poplet.collect.js. */
  distDir: string;
  /** One JSON line per request on stdout. */
  logRequests: boolean;
  /**
   * A request (headers and body) must arrive in full within this many ms of its first byte, or it
   * is answered 408 and its connection closed (POPLET_REQUEST_TIMEOUT, in seconds): a client that
   * stops sending must not hold a connection, nor a shutdown, forever.
   */
  requestTimeoutMs: number;
  /**
   * At shutdown, how long requests in flight get to finish before their connections are closed;
   * connections with none are closed at once. Not from the environment: the lesser of 5 s and
   * the request timeout, shorter in tests.
   */
  shutdownGraceMs: number;
}

export interface ServerDeps {
  db: Db;
  config: ServerConfig;
  /** 32 bytes: encrypts stored API keys (AES-256-GCM). Kept outside the database. */
  secret: Buffer;
  log: Log;
}

type Env = Record<string, string | undefined>;

/** `--port 9000 --data ./x` → { port: '9000', data: './x' }; other words are ignored. */
export function parseFlags(argv: string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) flags[a.slice(2)] = argv[++i]!;
    else flags[a.slice(2)] = 'true';
  }
  return flags;
}

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

/** As int, but 0 is refused too: a number of days to keep backups (0 would keep none but the newest). */
function positive(value: string | undefined, fallback: number, name: string): number {
  const n = int(value, fallback, name);
  if (n < 1) throw new Error(`${name} must be at least 1, got "${value}"`);
  return n;
}

/** The policy promises deletion within two working days: a longer purge delay is refused. */
export const PURGE_WITHIN_MAX_MINUTES = 48 * 60;
export const DEFAULT_PURGE_WITHIN_MINUTES = 60;

function purgeWithin(value: string | undefined): number {
  const n = int(value, DEFAULT_PURGE_WITHIN_MINUTES, 'POPLET_PURGE_WITHIN');
  if (n > PURGE_WITHIN_MAX_MINUTES) {
    throw new Error(`POPLET_PURGE_WITHIN must be at most ${PURGE_WITHIN_MAX_MINUTES} minutes (the policy promises deletion within two working days), got "${value}"`);
  }
  return n;
}

const bool = (value: string | undefined) => value === '1' || value === 'true' || value === 'yes';

function trustProxy(value: string | undefined): boolean | number | string {
  if (!value || value === 'false' || value === '0') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

function onOffAuto(value: string | undefined, name: string): boolean | 'auto' {
  const v = (value ?? '').trim().toLowerCase();
  if (v === '' || v === 'auto') return 'auto';
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  // A security switch: a typo must not silently mean "off".
  throw new Error(`${name} must be on, off or auto, got "${value}"`);
}

/** True for a listen address only this machine can reach. Names other than localhost are not assumed to be. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1' || /^::ffff:127\./.test(h);
}

/**
 * Whether the API and hook targets must use HTTPS, and why (said in the startup log).
 *
 * 'auto' (the default) requires it as soon as the server can be reached from another machine:
 * it listens beyond loopback, or a trusted proxy is configured (a proxy in front means traffic
 * from elsewhere, and it reports the scheme in X-Forwarded-Proto). A server on 127.0.0.1 with no
 * proxy (development, tests, `npm start`) is only reachable from this machine, where plain http
 * exposes nothing, so it stays off there.
 */
export function httpsPolicy(config: Pick<ServerConfig, 'requireHttps' | 'host' | 'trustProxy'>): { required: boolean; why: string } {
  if (config.requireHttps === true) return { required: true, why: 'POPLET_REQUIRE_HTTPS is on' };
  if (config.requireHttps === false) return { required: false, why: 'POPLET_REQUIRE_HTTPS is off' };
  if (!isLoopbackHost(config.host)) return { required: true, why: `auto: listening on ${config.host}, beyond loopback` };
  if (config.trustProxy !== false) return { required: true, why: 'auto: behind a trusted proxy (POPLET_TRUST_PROXY)' };
  return { required: false, why: `auto: listening on ${config.host} (loopback only) with no trusted proxy` };
}

/** POPLET_REQUEST_TIMEOUT's default, in seconds. */
export const DEFAULT_REQUEST_TIMEOUT_S = 15;
/** The longest a shutdown waits for requests in flight. */
export const SHUTDOWN_GRACE_MAX_MS = 5_000;

export function loadConfig(env: Env = process.env, argv: string[] = []): ServerConfig {
  const f = parseFlags(argv);
  const dataDir = resolve(f.data ?? env.POPLET_DATA ?? '.data');
  // At least a second: 0 would mean no timeout at all, which is what this setting exists to prevent.
  const requestTimeoutMs = positive(env.POPLET_REQUEST_TIMEOUT, DEFAULT_REQUEST_TIMEOUT_S, 'POPLET_REQUEST_TIMEOUT') * 1000;
  return {
    dataDir,
    dbPath: resolve(f.db ?? env.POPLET_DB ?? join(dataDir, 'poplet.db')),
    host: f.host ?? env.POPLET_HOST ?? '127.0.0.1',
    port: int(f.port ?? env.POPLET_PORT ?? env.PORT, 8787, 'port'),
    countryHeader: (f['country-header'] ?? env.POPLET_COUNTRY_HEADER ?? '').toLowerCase() || null,
    trustProxy: trustProxy(f['trust-proxy'] ?? env.POPLET_TRUST_PROXY),
    allowPrivateHooks: bool(f['allow-private-hooks'] ?? env.POPLET_ALLOW_PRIVATE_HOOKS),
    requireHttps: onOffAuto(f['require-https'] ?? env.POPLET_REQUIRE_HTTPS, 'POPLET_REQUIRE_HTTPS'),
    synchronous: (f.synchronous ?? env.POPLET_SYNCHRONOUS ?? 'full').toLowerCase() === 'normal' ? 'normal' : 'full',
    journalDir: env.POPLET_JOURNAL === 'off' ? '' : resolve(env.POPLET_JOURNAL || join(dataDir, 'journal')),
    backupDir: resolve(env.POPLET_BACKUPS ?? join(dataDir, 'backups')),
    retentionDays: int(env.POPLET_RETENTION_DAYS, 730, 'POPLET_RETENTION_DAYS'),
    backupKeep: positive(env.POPLET_BACKUP_KEEP, 7, 'POPLET_BACKUP_KEEP'),
    backupEveryHours: env.POPLET_BACKUP_EVERY?.trim().toLowerCase() === 'off' ? 0 : int(env.POPLET_BACKUP_EVERY, 24, 'POPLET_BACKUP_EVERY'),
    purgeWithinMinutes: purgeWithin(env.POPLET_PURGE_WITHIN),
    purgeCheckMs: 60_000,
    collectPerMinute: int(env.POPLET_COLLECT_PER_MIN, 30, 'POPLET_COLLECT_PER_MIN'),
    eventsPerMinute: int(env.POPLET_EVENTS_PER_MIN, 120, 'POPLET_EVENTS_PER_MIN'),
    apiPerMinute: int(env.POPLET_API_PER_MIN, 60, 'POPLET_API_PER_MIN'),
    distDir: resolve(env.POPLET_DIST ?? join(import.meta.dirname, '../../dist')),
    logRequests: (f['log'] ?? env.POPLET_LOG) !== 'off',
    requestTimeoutMs,
    shutdownGraceMs: Math.min(SHUTDOWN_GRACE_MAX_MS, requestTimeoutMs),
  };
}
