// A real `poplet erase` SIGKILLed at a chosen step of replacing a journal file, while the test
// appends in the last instant before the replacement, and the replay that checks what survived:
// shared by the kill test (every step) and the recovery test (after the rename).
import { spawn } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { replay } from '../../src/server/lifecycle/replay';
import { openDb } from '../../src/server/store/db';
import type { Env } from './hooks-fixture';

const ROOT = join(import.meta.dirname, '../..');

/**
 * Loaded into the `poplet erase` process before the CLI: wraps the file operations by which a scrub
 * replaces a journal file. At the first of them (after the scrub's last read of the old file) it
 * tells the test (fd 3) and waits for it (stdin) while the test appends; at KILL_AT it SIGKILLs
 * its own process, so nothing after that step runs: no catch, no finally, no lock release.
 */
const PRELOAD = `
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
const at = process.env.KILL_AT;
const kill = (point) => {
  if (point !== at) return;
  process.kill(process.pid, 'SIGKILL');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // nothing more runs
};
let paused = false;
async function lastInstant() {
  if (paused) return;
  paused = true;
  fs.writeSync(3, 'window\\n');
  await new Promise((ok) => process.stdin.once('data', ok));
}
const tail = (p) => String(p).endsWith('.tail');
const { link, rename, rm, unlink } = fsp;
const { rmSync, unlinkSync } = fs;
fsp.link = async (from, to) => {
  if (!tail(to)) return link(from, to);
  await lastInstant();
  await link(from, to);
  kill('after-link');
};
fsp.rename = async (from, to) => {
  if (!String(to).endsWith('.jsonl')) return rename(from, to);
  await lastInstant();
  kill('before-rename');
  await rename(from, to);
  kill('after-rename');
};
fsp.rm = async (p, o) => (tail(p) && kill('before-tail-unlink'), rm(p, o));
fsp.unlink = async (p) => (tail(p) && kill('before-tail-unlink'), unlink(p));
fs.rmSync = (p, o) => (tail(p) && kill('before-tail-unlink'), rmSync(p, o));
fs.unlinkSync = (p) => (tail(p) && kill('before-tail-unlink'), unlinkSync(p));
syncBuiltinESMExports();
`;

/** Writes the preload into `dir`; its path is what eraseKilled takes. */
export function writePreload(dir: string): string {
  const path = join(dir, 'preload.mjs');
  writeFileSync(path, PRELOAD);
  return path;
}

/** Runs `poplet erase` of `email`; `during` runs in the last instant before the file is replaced. */
export async function eraseKilled(e: Env, email: string, point: string, preload: string, during: () => Promise<void>): Promise<{ code: number | null; signal: string | null; output: string }> {
  const cli = spawn(process.execPath, ['--import', 'tsx', '--import', preload, 'src/server/cli.ts', 'erase', '--site', e.siteId, email], {
    cwd: ROOT,
    env: { ...process.env, POPLET_DATA: e.dir, KILL_AT: point },
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  let output = '';
  cli.stdout!.on('data', (d) => (output += d));
  cli.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((ok) => cli.on('exit', (code, signal) => ok({ code, signal })));
  const reached = await Promise.race([
    new Promise<boolean>((ok) => cli.stdio[3]!.once('data', () => ok(true))),
    exited.then(() => false),
  ]);
  expect(reached, output).toBe(true);
  await during();
  cli.stdin!.end('go\n');
  return { ...(await exited), output };
}

/** The database lost: `backup` restored as `path`, then `journal` (a folder or one file) replayed; its sign-ups' ids. */
export function replayedOnto(backup: string, path: string, journal: string): string[] {
  copyFileSync(backup, path);
  const db = openDb(path);
  try {
    replay({ db }, journal);
    return db.prepare('SELECT client_id FROM signups ORDER BY client_id').pluck().all() as string[];
  } finally {
    db.close();
  }
}
