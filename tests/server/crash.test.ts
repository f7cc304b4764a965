// kill -9 of the server in the middle of a burst of sign-ups: every sign-up that got a 2xx must
// be in the database after a restart on the same file.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { openDb } from '../../src/server/store/db';
import { loadSecret } from '../../src/server/store/keys';
import { addSite } from '../../src/server/store/sites';
import { apiAuth, signup } from './fixture';
import { collectHead, rawConnect } from './raw-http';
import type { EmailRow } from '../../src/shared/signup';

const CLI = resolve(import.meta.dirname, '../../src/server/cli.ts');
const dir = mkdtempSync(join(tmpdir(), 'poplet-crash-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `poplet serve` as a child process and resolves its URL from the "listening" log line. */
function serve(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--port', '0', '--log', 'off'], {
    env: { ...process.env, POPLET_DATA: dir, POPLET_COLLECT_PER_MIN: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`server exited early (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /"msg":"listening","url":"([^"]+)"/.exec(line);
      if (m) ok({ child, url: m[1]! });
    });
  });
}

it('keeps every acknowledged sign-up across kill -9', async () => {
  const setup = openDb(join(dir, 'poplet.db'));
  const { site, key } = addSite(setup, loadSecret(dir, {}), { domain: 'crash.example' });
  setup.close();

  const { child, url } = await serve();
  const acked = new Set<string>();
  let dead = false;
  // 40 clients post back to back until the server dies under them.
  const clients = Array.from({ length: 40 }, async () => {
    while (!dead) {
      const body = signup(site.id);
      try {
        const r = await fetch(`${url}/collect`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        if (r.status === 201 || r.status === 200) acked.add(body.id);
      } catch {
        // connection reset by the kill: not acknowledged, the browser would retry
      }
    }
  });
  while (acked.size < 300) await new Promise((ok) => setTimeout(ok, 5));
  // One sign-up certainly in flight when it dies: all but its last byte sent. (The burst's own
  // requests may all have been answered at the instant of the kill when this process is the slow
  // side, on a loaded machine.)
  const body = JSON.stringify(signup(site.id));
  const inFlight = await rawConnect(url);
  inFlight.send(collectHead(Buffer.byteLength(body)) + body.slice(0, -1));
  child.kill('SIGKILL');
  dead = true;
  await Promise.all(clients);
  expect(await inFlight.answer()).toMatchObject({ status: 0, closed: true, hung: false }); // never answered: not acknowledged

  const again = await serve();
  const stored = new Set<string>();
  const db = openDb(join(dir, 'poplet.db'));
  for (const id of db.prepare('SELECT client_id FROM signups').pluck().all() as string[]) stored.add(id);
  db.close();
  const missing = [...acked].filter((id) => !stored.has(id));
  expect(missing).toEqual([]);
  // And the restarted server serves them through the Email API.
  const rows = (await (await fetch(`${again.url}/api1/emails?page_size=1000`, { headers: apiAuth(key) })).json()) as EmailRow[];
  expect(rows.length).toBe(stored.size);
  again.child.kill('SIGTERM');
  await new Promise((ok) => again.child.once('exit', ok));
  expect(again.child.exitCode).toBe(0);
});
