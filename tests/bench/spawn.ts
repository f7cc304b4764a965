// The collection server as the benchmarks measure it: bundled into one file run on plain node
// (tsx would add its compiler's ~20 MB to the RSS), in a child process of its own so the load
// generator does not share its event loop. Shared by tests/bench/server.ts and events.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Bundles the CLI (`serve`) into node_modules/.cache/poplet-bench/<name>.mjs, inside
 * node_modules so the bundle resolves its external packages from the project. One name per
 * bench: two benches may build at the same time.
 */
export async function bundleServer(name: string): Promise<string> {
  const outfile = join(ROOT, `node_modules/.cache/poplet-bench/${name}.mjs`);
  await build({
    entryPoints: [join(ROOT, 'src/server/cli.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

/** Runs `node args…` and resolves once it logs `{"msg":"listening","url":…}`; rejects if it exits first. */
export function startProcess(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`server exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /"msg":"listening","url":"([^"]+)"/.exec(line);
      if (m) ok({ child, url: m[1]! });
    });
  });
}

/** SIGTERM to the children still running, resolved once they have exited. */
export async function stopProcesses(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.filter((c) => c.exitCode === null).map((c) => new Promise((ok) => (c.once('exit', ok), c.kill('SIGTERM')))));
}

export const DIST = join(ROOT, 'dist');
