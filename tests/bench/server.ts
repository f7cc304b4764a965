// Collection server benchmark: sign-ups/s and latency on POST /collect with 50 connections, next
// to a bare node:http handler doing the least a sign-up endpoint can do (parse JSON, answer),
// measured in the same run; then the server's RSS after 100,000 sign-ups. Each server runs in its
// own child process so the load generator does not share its event loop.
// Runnable alone: npx tsx tests/bench/server.ts
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { signupId } from '../../src/shared/signup';
import { openDb } from '../../src/server/store/db';
import { loadSecret } from '../../src/server/store/keys';
import { addSite } from '../../src/server/store/sites';
import { importCampaigns } from '../../src/server/store/campaigns';
import { testCampaign } from '../server/fixture';
import { autocannon, type LoadRequest, type LoadResult } from './load';
import { bundleServer, DIST, startProcess, stopProcesses } from './spawn';

const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TOTAL = 100_000;
const TARGET = { rate: 3000, p99: 25, ratio: 0.35, rssMb: 150 };

const BARE = `
import { createServer } from 'node:http';
const s = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const p = JSON.parse(body);
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: p.id, collected_at: new Date().toISOString() }));
  });
});
s.listen(0, '127.0.0.1', () => console.log('{"msg":"listening","url":"http://127.0.0.1:' + s.address().port + '"}'));
`;

let seq = 0;
function load(url: string, site: string, opts: { duration?: number; amount?: number }): Promise<LoadResult> {
  return autocannon({
    url,
    connections: CONNECTIONS,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.duration ?? SECONDS }),
    requests: [
      {
        method: 'POST',
        path: '/collect',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req: LoadRequest) => {
          seq += 1;
          return {
            ...req,
            body: JSON.stringify({
              // As the SDK makes them: the ids' order decides how much of the index a batch rewrites.
              id: signupId(nanoid()),
              site,
              wisepop_id: 1 + (seq % 4),
              // Addresses land at random places of the address index, as real ones do.
              email: `${nanoid(10)}@example.com`,
              fields: { first_name: 'Ada', source: 'newsletter' },
              consent: 'I agree to receive the newsletter.',
            }),
          };
        },
      },
    ],
  });
}

const rssMb = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
const ok = (good: boolean) => (good ? 'ok' : 'MISSED');

export async function bench(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'poplet-bench-'));
  const children: ChildProcess[] = [];
  try {
    const db = openDb(join(dir, 'poplet.db'));
    const { site } = addSite(db, loadSecret(dir, {}), { domain: 'bench.example' });
    // The campaigns the sign-ups name, as on a real site (a sign-up for a campaign the site never
    // had takes a slower path, and is not counted in the stats).
    importCampaigns(db, site.id, [1, 2, 3, 4].map((id) => testCampaign(id)));
    db.close();

    // Measured as deployed (spawn.ts).
    const bundle = await bundleServer('server');
    const ours = await startProcess([bundle, 'serve', '--port', '0', '--log', 'off'], {
      POPLET_DATA: dir,
      POPLET_DIST: DIST,
      POPLET_COLLECT_PER_MIN: '0',
    });
    children.push(ours.child);
    const bare = await startProcess(['--input-type=module', '-e', BARE], {});
    children.push(bare.child);

    // Warm both up (JIT, SQLite page cache), then measure each alone.
    await load(ours.url, site.id, { duration: 2 });
    await load(bare.url, site.id, { duration: 2 });
    const a = await load(ours.url, site.id, {});
    const b = await load(bare.url, site.id, {});
    const errors = a.non2xx + a.errors + a.timeouts;

    const check = openDb(join(dir, 'poplet.db'));
    const stored = () => check.prepare('SELECT COUNT(*) FROM signups').pluck().get() as number;
    const remaining = TOTAL - stored();
    if (remaining > 0) await load(ours.url, site.id, { amount: remaining });
    const total = stored();
    check.close();
    const rss = rssMb(ours.child.pid!);

    // The kill-9-safe but not power-cut-proof mode (no fsync per commit), for comparison.
    const normalDir = join(dir, 'normal');
    const fdb = openDb(join(normalDir, 'poplet.db'));
    const { site: normalSite } = addSite(fdb, loadSecret(normalDir, {}), { domain: 'bench.example' });
    importCampaigns(fdb, normalSite.id, [1, 2, 3, 4].map((id) => testCampaign(id)));
    fdb.close();
    const normal = await startProcess([bundle, 'serve', '--port', '0', '--log', 'off'], {
      POPLET_DATA: normalDir,
      POPLET_COLLECT_PER_MIN: '0',
      POPLET_SYNCHRONOUS: 'normal',
    });
    children.push(normal.child);
    await load(normal.url, normalSite.id, { duration: 2 });
    const c = await load(normal.url, normalSite.id, {});

    const rate = a.requests.average;
    const ratio = rate / b.requests.average;
    return [
      `server /collect: ${Math.round(rate)} sign-ups/s, p50 ${a.latency.p50} ms, p99 ${a.latency.p99} ms (${CONNECTIONS} connections, ${SECONDS} s, ${errors} errors/non-2xx) — targets ≥ ${TARGET.rate}/s ${ok(rate >= TARGET.rate)}, p99 ≤ ${TARGET.p99} ms ${ok(a.latency.p99 <= TARGET.p99)}`,
      `server bare node:http: ${Math.round(b.requests.average)} req/s, p50 ${b.latency.p50} ms, p99 ${b.latency.p99} ms`,
      `server ratio ours/bare: ${ratio.toFixed(2)} — target ≥ ${TARGET.ratio} ${ok(ratio >= TARGET.ratio)}`,
      `server /collect with POPLET_SYNCHRONOUS=normal: ${Math.round(c.requests.average)} sign-ups/s, p50 ${c.latency.p50} ms, p99 ${c.latency.p99} ms, ratio ${(c.requests.average / b.requests.average).toFixed(2)}`,
      `server RSS after ${total.toLocaleString('en')} sign-ups: ${rss.toFixed(1)} MB — target < ${TARGET.rssMb} MB ${ok(rss < TARGET.rssMb && total >= TOTAL)}`,
    ];
  } finally {
    await stopProcesses(children);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await bench()) console.log(line);
}
