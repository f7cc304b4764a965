// POST /events benchmark: analytics batches/s and latency with 50 connections, as browsers send
// them (a display and a close, or a display alone, with the visitor's analytics id when consent
// allowed it), against the server bundled as deployed. Measured twice: every batch with an id
// (each id one visitor of one campaign and group: a new visitor row per id, the costly case
// under the per-site cap), then without ids (consent denied everywhere).
// Runnable alone: npx tsx tests/bench/events.ts
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../src/server/store/db';
import { loadSecret } from '../../src/server/store/keys';
import { addSite } from '../../src/server/store/sites';
import { importCampaigns } from '../../src/server/store/campaigns';
import { testCampaign } from '../server/fixture';
import { autocannon, type LoadRequest, type LoadResult } from './load';
import { bundleServer, DIST, startProcess, stopProcesses } from './spawn';

const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Distinct analytics ids sent: below the per-site daily cap, so every one is a row to write. */
const VISITORS = 60_000;
const GROUPS = ['a', 'b', 'control'];

let seq = 0;
function load(url: string, site: string, withId: boolean, duration = SECONDS): Promise<LoadResult> {
  const run = `${process.pid}${Date.now().toString(36)}`;
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    requests: [
      {
        method: 'POST',
        path: '/events',
        headers: { 'content-type': 'text/plain' },
        setupRequest: (req: LoadRequest) => {
          seq += 1;
          const v = seq % VISITORS;
          const c = 1 + (v % 4);
          const g = GROUPS[(v >> 2) % 3];
          const t = Date.now();
          const events = g === 'control' || seq % 2 ? [{ k: 'display', c, g, t }] : [{ k: 'display', c, g, t }, { k: 'close', c, g, t }];
          // nanoid-shaped: 21 characters of A-Z a-z 0-9 _ -
          const visitor = withId ? `bench${run}v${v}`.padEnd(21, '_').slice(0, 21) : undefined;
          return { ...req, body: JSON.stringify({ site, visitor, events }) };
        },
      },
    ],
  });
}

export async function bench(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'poplet-bench-events-'));
  let child: ChildProcess | undefined;
  try {
    const db = openDb(join(dir, 'poplet.db'));
    const { site } = addSite(db, loadSecret(dir, {}), { domain: 'bench.example' });
    importCampaigns(db, site.id, [1, 2, 3, 4].map((id) => testCampaign(id, { variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }], control: 10 })));
    db.close();
    const bundle = await bundleServer('events-server');
    const server = await startProcess([bundle, 'serve', '--port', '0', '--log', 'off'], {
      POPLET_DATA: dir,
      POPLET_DIST: DIST,
      POPLET_EVENTS_PER_MIN: '0',
    });
    child = server.child;
    await load(server.url, site.id, true, 2);
    const withId = await load(server.url, site.id, true);
    const without = await load(server.url, site.id, false);
    const line = (name: string, r: LoadResult) =>
      `server /events ${name}: ${Math.round(r.requests.average)} batches/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms (${CONNECTIONS} connections, ${SECONDS} s, ${r.non2xx + r.errors + r.timeouts} errors/non-2xx)`;
    return [line('with analytics ids', withId), line('without ids', without)];
  } finally {
    if (child) await stopProcesses([child]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of await bench()) console.log(line);
}
