// Hook delivery latency: from a browser's POST /collect leaving the client to the signed payload
// arriving at a healthy receiver, through the real server (startServer: HTTP, group commit,
// outbox in the sign-up transaction, worker) on 127.0.0.1. Target: p99 under 1 s.
// Then /collect during a hook outage: 8 hooks whose receiver has been down for a day (160,000
// deliveries waiting). The worker runs after every sign-up commit, so its cost per tick is paid
// by /collect; compare with the outage-free figure of tests/bench/server.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { startServer } from '../../src/server/main';
import { addSite } from '../../src/server/store/sites';
import { silentLog } from '../../src/server/log';
import { insertSignups } from '../../src/server/store/signups';
import { signupId, type EmailRow } from '../../src/shared/signup';
import { autocannon, type LoadRequest } from './load';

const SIGNUPS = 400;
const SPACING_MS = 5; // ~200 sign-ups/s: far above a real site, well below saturation

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

export async function bench(): Promise<string[]> {
  return [...(await benchDelivery()), ...(await benchOutage())];
}

async function benchDelivery(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'poplet-bench-hooks-'));
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const seen = new Set<string>();
  let payloads = 0;
  let allIn: () => void = () => undefined;
  const done = new Promise<void>((r) => (allIn = r));
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = performance.now();
      payloads += 1;
      for (const row of JSON.parse(Buffer.concat(chunks).toString()) as EmailRow[]) {
        if (seen.has(row.email)) continue; // counted below as a duplicate
        seen.add(row.email);
        latencies.push(now - sentAt.get(row.email)!);
      }
      res.end('ok');
      if (latencies.length >= SIGNUPS) allIn();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  process.env.POPLET_COLLECT_PER_MIN = String(SIGNUPS * 10);
  const server = await startServer({ dataDir: dir, port: 0, allowPrivateHooks: true, logRequests: false }, silentLog);
  try {
    const { site, key } = addSite(server.deps.db, server.deps.secret, { domain: 'bench.example' });
    const created = await fetch(`${server.url}/api1/hooks`, {
      method: 'POST',
      headers: { authorization: `WISEPOPS-API key="${key}"`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'email', target_url: hookUrl }),
    });
    if (created.status !== 201) throw new Error(`hook creation: ${created.status} ${await created.text()}`);
    const posts: Promise<unknown>[] = [];
    for (let i = 0; i < SIGNUPS; i++) {
      const email = `bench${i}@example.com`;
      sentAt.set(email, performance.now());
      posts.push(
        fetch(`${server.url}/collect`, {
          method: 'POST',
          headers: { origin: 'https://bench.example', 'content-type': 'application/json' },
          body: JSON.stringify({ id: signupId(nanoid()), site: site.id, wisepop_id: 1, email, fields: {} }),
        }).then((r) => {
          if (r.status !== 201) throw new Error(`collect: ${r.status}`);
        }),
      );
      await new Promise((r) => setTimeout(r, SPACING_MS));
    }
    await Promise.all(posts);
    await Promise.race([done, new Promise((_, no) => setTimeout(() => no(new Error(`only ${latencies.length}/${SIGNUPS} delivered in 30 s`)), 30_000))]);
    const sorted = latencies.sort((a, b) => a - b);
    const f = (ms: number) => `${ms.toFixed(1)} ms`;
    return [
      `hooks: sign-up → hook receipt over ${SIGNUPS} sign-ups at ${1000 / SPACING_MS}/s: p50 ${f(pct(sorted, 50))}, p99 ${f(pct(sorted, 99))}, max ${f(sorted.at(-1)!)} (target p99 < 1000 ms) ${pct(sorted, 99) < 1000 ? 'OK' : 'OVER'}`,
      `hooks: ${payloads} payloads for ${SIGNUPS} sign-ups (${(SIGNUPS / payloads).toFixed(1)} per batch), ${SIGNUPS - seen.size} missing`,
    ];
  } finally {
    await server.close();
    await new Promise<void>((r) => receiver.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const BACKLOG_HOOKS = 8;
const BACKLOG_SIGNUPS = 20_000;

export async function benchOutage(seconds = Number(process.env.BENCH_SECONDS ?? 5)): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'poplet-bench-hooks-outage-'));
  const down = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(503).end());
  });
  await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
  const downUrl = `http://127.0.0.1:${(down.address() as AddressInfo).port}/hook`;
  process.env.POPLET_COLLECT_PER_MIN = '0';
  const server = await startServer({ dataDir: dir, port: 0, allowPrivateHooks: true, logRequests: false }, silentLog);
  try {
    const { db } = server.deps;
    const { site } = addSite(db, server.deps.secret, { domain: 'bench.example' });
    const insertHook = db.prepare(`INSERT INTO hooks (site_id, event, target_url, created_at) VALUES (?, 'email', ?, ?)`);
    for (let i = 0; i < BACKLOG_HOOKS; i++) insertHook.run(site.id, `${downUrl}?${i}`, new Date().toISOString());
    for (let done = 0; done < BACKLOG_SIGNUPS; done += 500) {
      insertSignups(
        db,
        Array.from({ length: 500 }, (_, i) => ({
          site_id: site.id, client_id: `backlog-${done + i}`, email: `backlog${done + i}@example.com`, wisepop_id: 1,
          ip: '203.0.113.9', country_code: 'US', other_fields: {}, consent: null, variant: null,
        })),
      );
    }
    const pending = db.prepare(`SELECT COUNT(*) FROM hook_deliveries WHERE status = 'pending'`).pluck().get() as number;
    // Every hook tried once and waiting for its retry, as during a long outage.
    const failing = db.prepare('SELECT COUNT(*) FROM hooks WHERE last_error IS NOT NULL').pluck();
    const end = Date.now() + 30_000;
    while ((failing.get() as number) < BACKLOG_HOOKS && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    let seq = 0;
    const load = (duration: number) =>
      autocannon({
        url: server.url,
        connections: 50,
        duration,
        requests: [
          {
            method: 'POST',
            path: '/collect',
            headers: { origin: 'https://bench.example', 'content-type': 'application/json' },
            setupRequest: (req: LoadRequest) => ({
              ...req,
              body: JSON.stringify({ id: signupId(nanoid()), site: site.id, wisepop_id: 1, email: `outage${++seq}@example.com`, fields: {} }),
            }),
          },
        ],
      });
    await load(1); // warm-up
    const r = await load(seconds);
    return [
      `hooks outage: /collect with ${pending.toLocaleString('en')} deliveries waiting on ${BACKLOG_HOOKS} down hooks: ${Math.round(r.requests.average)} sign-ups/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms (50 connections, ${seconds} s, load generator in the same process, ${r.non2xx + r.errors} errors/non-2xx)`,
    ];
  } finally {
    await server.close();
    await new Promise<void>((r) => down.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) for (const l of await bench()) console.log(l);
