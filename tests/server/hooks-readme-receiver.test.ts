// The README's Node receiver is what integrators paste: run as printed (its port aside) against a
// real server, it must accept the server's deliveries, which the hook's state shows (it answers
// 401 to a bad signature, 200 to a good one).
import { afterEach, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiAuth, post, signup, startFixture, type Fixture } from './fixture';
import type { HookView } from '../../src/server/hooks/routes';

let f: Fixture | undefined;
let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  child?.kill();
  await f?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  f = child = dir = undefined;
});

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
const receiver = /Node \(sign the raw body[^\n]*\n+```js\n([\s\S]*?)```/.exec(readme)?.[1];

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const freePort = () =>
  new Promise<number>((ok) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => ok(port));
    });
  });

it("the README's Node receiver verifies and acknowledges the server's signed deliveries", async () => {
  expect(receiver).toContain('.listen(3000)');
  const port = await freePort();
  f = await startFixture({ allowPrivateHooks: true });
  dir = mkdtempSync(join(tmpdir(), 'poplet-receiver-'));
  const file = join(dir, 'receiver.mjs');
  writeFileSync(file, receiver!.replace('.listen(3000)', `.listen(${port})`));
  const listening = () =>
    new Promise<boolean>((ok) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), ok(true))).on('error', () => ok(false));
    });
  const run = async (key: string) => {
    if (child) {
      const exited = new Promise((ok) => child!.once('exit', ok));
      child.kill();
      await exited;
    }
    child = spawn(process.execPath, [file], { env: { ...process.env, POPLET_API_KEY: key }, stdio: 'ignore' });
    await until(listening, 'the receiver to listen');
  };
  await run(f.key);
  const hooks = async () => (await (await fetch(`${f!.url}/api1/hooks`, { headers: apiAuth(f!.key) })).json()) as HookView[];
  const created = await post(`${f.url}/api1/hooks`, { event: 'email', target_url: `http://127.0.0.1:${port}/hook` }, apiAuth(f.key));
  expect(created.status).toBe(201);
  // Non-ASCII text in the body: the signature is over its UTF-8 bytes.
  for (const email of ['jane@example.com', 'jöhn@exämple.com']) {
    expect((await post(`${f.url}/collect`, signup(f.site, { email, fields: { City: 'Zürich 😀' } }))).status).toBe(201);
  }
  await until(async () => (await hooks())[0]?.sent === 2, 'both sign-ups acknowledged');

  // With another key, the same code refuses the deliveries (401): the check is not a formality.
  await run('not-the-key');
  expect((await post(`${f.url}/collect`, signup(f.site))).status).toBe(201);
  await until(async () => (await hooks())[0]?.last_error === 'HTTP 401', '401 from the receiver');
}, 40_000);
