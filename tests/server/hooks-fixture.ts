// Shared by the hooks and lifecycle tests: a real SQLite file in a temp folder, a site with its
// API key, and a node:http hook receiver on 127.0.0.1 whose health the test controls.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ServerDeps } from '../../src/server/config';
import { silentLog } from '../../src/server/log';
import { openDb } from '../../src/server/store/db';
import { addSite } from '../../src/server/store/sites';
import { insertSignups } from '../../src/server/store/signups';
import { installOutbox } from '../../src/server/hooks/enqueue';
import type { EmailRow } from '../../src/shared/signup';

export interface Env {
  dir: string;
  deps: ServerDeps;
  siteId: string;
  key: string;
  reopen(): void;
  cleanup(): void;
}

export function makeEnv(env: Record<string, string> = {}): Env {
  installOutbox(); // as registerHookRoutes / startHookWorker do in the server
  const dir = mkdtempSync(join(tmpdir(), 'poplet-hooks-'));
  const config = loadConfig({ POPLET_DATA: dir, POPLET_ALLOW_PRIVATE_HOOKS: '1', ...env });
  const deps: ServerDeps = { db: openDb(config.dbPath), config, secret: randomBytes(32), log: silentLog };
  const { site, key } = addSite(deps.db, deps.secret, { domain: 'shop.example' });
  return {
    dir,
    deps,
    siteId: site.id,
    key,
    reopen() {
      if (deps.db.open) deps.db.close();
      deps.db = openDb(config.dbPath);
    },
    cleanup() {
      if (deps.db.open) deps.db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
/** Stores `n` sign-ups through the real store path (its transaction runs the outbox hook). */
export function signup(deps: ServerDeps, siteId: string, n = 1, wisepopId = 12345): string[] {
  const emails: string[] = [];
  const items = Array.from({ length: n }, () => {
    const email = `person${++counter}-${randomBytes(3).toString('hex')}@example.com`;
    emails.push(email);
    return {
      site_id: siteId, client_id: randomBytes(10).toString('base64url'), email, wisepop_id: wisepopId,
      ip: '203.0.113.9', country_code: 'US', other_fields: { City: 'Seattle' }, consent: null, variant: null,
    };
  });
  insertSignups(deps.db, items);
  return emails;
}

export function addHook(deps: ServerDeps, siteId: string, url: string, wisepopId: number | null = null): number {
  return Number(
    deps.db
      .prepare('INSERT INTO hooks (site_id, event, target_url, wisepop_id, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(siteId, 'email', url, wisepopId, new Date().toISOString()).lastInsertRowid,
  );
}

/** The seed's PHP check, in Node: hash_hmac('sha256', $payload, $apiKey) then hash_equals. */
export function signatureValid(body: string, signature: string | undefined, apiKey: string): boolean {
  const expected = Buffer.from(createHmac('sha256', apiKey).update(body).digest('hex'));
  const given = Buffer.from(signature ?? '');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface Received {
  at: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  status: number;
}

/** up: 200, down: 503, a number: that status; hang: no answer; drop: the connection is cut. */
export type Mode = 'up' | 'down' | 'hang' | 'drop' | number;

export interface Receiver {
  url: string;
  mode: Mode;
  /** Bodies of more bytes are answered 413, whatever the mode: a gateway's limit in front of it. */
  maxBytes: number;
  /** Every request, answered or not. */
  requests: Received[];
  /** Requests answered 2xx: what the receiver accepted. */
  accepted(): Received[];
  emails(): string[];
  close(): Promise<void>;
}

export async function startReceiver(mode: Mode = 'up'): Promise<Receiver> {
  const sockets = new Set<import('node:net').Socket>();
  const r: Receiver = {
    url: '',
    mode,
    maxBytes: Infinity,
    requests: [],
    accepted: () => r.requests.filter((q) => q.status >= 200 && q.status < 300),
    emails: () => r.accepted().flatMap((q) => (JSON.parse(q.body) as EmailRow[]).map((e) => e.email)),
    close: () =>
      new Promise<void>((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const tooLarge = body.length > r.maxBytes;
      const status = tooLarge ? 413 : typeof r.mode === 'number' ? r.mode : r.mode === 'up' ? 200 : r.mode === 'down' ? 503 : 0;
      r.requests.push({ at: Date.now(), body: body.toString('utf8'), headers: req.headers, status });
      if (tooLarge) return void res.writeHead(413).end();
      if (r.mode === 'hang') return;
      if (r.mode === 'drop') return req.socket.destroy();
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'unavailable');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return r;
}

export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
