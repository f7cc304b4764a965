// The recovery journal: an append-only JSON-lines log of every accepted POST /collect, so that a
// lost database can be rebuilt from the last backup plus the journal (`replay`). One file per UTC
// day, cut into numbered parts past `maxBytes`. Put the folder on other storage than the database
// (or sync it off the host) for it to survive a disk loss.
//
// Lines appended in one turn of the event loop are written together, in a microtask: a group
// commit answers many sign-ups at once, and one open/append/close for all of them keeps the
// journal off the hot path. Opening the file per write keeps the writer correct when files are
// rotated or scrubbed.
//
// Erasure rewrites files (scrubJournal) while a server may be appending to them, from another
// process (`poplet erase`) or from its own event loop (DELETE /api1/emails, streamed). Neither side
// waits for the other, so a sign-up's line never depends on a lock someone else holds:
// - the writer checks after each append that the path still names the file it wrote to; if a
//   scrub replaced it meanwhile, it writes the lines again to the new file (a line may then be
//   there twice: replay deduplicates on the sign-up id);
// - the scrubber keeps the old file open and reads what was appended to it until a read finds
//   nothing new, all into the new file, before the rename; after the rename it copies what came
//   in that last instant. A scrub killed after its rename loses at most that instant's lines;
// - scrubbers take turns through a lock file (two rewriting one file would undo each other).
// Any append lands in the new file one way or the other: appended to the old file, the scrubber
// carries it (in a catch-up read, or right after the rename); after the rename, the writer sees it.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync, existsSync, fstatSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, unlinkSync,
  utimesSync, writeFileSync, writeSync,
} from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { SignupPayload } from '../../shared/signup';
import { createLog, type Log } from '../log';
import { foldEmail } from '../store/signups';

/** What the server decided about an accepted call: needed to rebuild the exact stored row. */
export interface JournalMeta {
  collected_at: string;
  ip: string;
  country_code: string | null;
}

export interface SignupEntry {
  type: 'signup';
  at: string;
  payload: SignupPayload;
  meta: JournalMeta;
}

/** Written by erasure: replay re-applies it, and it holds a hash, never the address itself. */
export interface EraseEntry {
  type: 'erase';
  at: string;
  site: string;
  email_sha256: string;
}

export type JournalEntry = SignupEntry | EraseEntry;

export interface Journal {
  append(payload: SignupPayload, meta: JournalMeta): void;
  /**
   * Records that an address was erased (hash only), so a replay does not bring it back; `at`:
   * when, as replay compares it with collected_at (default now).
   */
  appendErasure(site: string, email: string, at?: number): void;
  close(): void;
}

const FILE = /^collect-(\d{4}-\d{2}-\d{2})\.(\d+)\.jsonl$/;

export function emailHash(site: string, email: string): string {
  return createHash('sha256').update(`${site}\n${foldEmail(email)}`).digest('hex');
}

/** Journal files of a folder, oldest first. */
export function journalFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => ({ n, m: FILE.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => a.m[1]!.localeCompare(b.m[1]!) || Number(a.m[2]) - Number(b.m[2]))
    .map((x) => join(dir, x.n));
}

function inode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** Appends `text` to `path`, again if a scrub replaced the file while it was written (see top). */
function appendLines(path: string, text: string): void {
  const bytes = Buffer.from(text);
  // A scrub takes far longer than an append, so a second replacement during one retry is rare;
  // the bound only keeps a pathological loop from holding the event loop.
  for (let attempt = 0; attempt < 10; attempt++) {
    const fd = openSync(path, 'a', 0o600);
    let written: number;
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
      written = fstatSync(fd).ino;
    } finally {
      closeSync(fd);
    }
    if (inode(path) === written) return;
  }
}

/**
 * Whether a file ends with a newline (an empty or missing file counts as ending with one, and so
 * does one that cannot be read: the append to it fails too, and its retry asks again).
 */
function endsWithNewline(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return true;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } catch {
    return true;
  } finally {
    closeSync(fd);
  }
}

/**
 * Lines a journal keeps in memory while its file cannot be written (disk full, I/O error), to
 * write them once it can: past either bound the oldest go. The database holds those sign-ups; the
 * journal is only their recovery copy, and memory must not grow for as long as a disk stays full.
 */
export const KEPT_MAX_LINES = 10_000;
export const KEPT_MAX_BYTES = 8 * 1024 * 1024;

export interface JournalOptions {
  maxBytes?: number;
  now?: () => number;
  /** Where write failures are reported (default: JSON lines on stderr). */
  log?: Log;
}

export function createJournal(dir: string, options: JournalOptions = {}): Journal {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const now = options.now ?? Date.now;
  const log = options.log ?? createLog(process.stderr);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let day = '';
  let part = 0;
  let size = 0;
  let closed = false;

  function pathFor(d: string, p: number): string {
    return join(dir, `collect-${d}.${p}.jsonl`);
  }
  function sizeOf(path: string): number {
    try {
      return statSync(path).size;
    } catch {
      return 0;
    }
  }
  // Continue the newest part of today's file after a restart.
  function openDay(d: string): void {
    day = d;
    part = 0;
    for (const f of journalFiles(dir)) {
      const m = FILE.exec(f.slice(dir.length + 1));
      if (m && m[1] === d) part = Math.max(part, Number(m[2]));
    }
    size = sizeOf(pathFor(day, part));
    // A crash mid-append leaves a torn last line: end it, or the next line would be glued to it
    // and both unreadable.
    if (!endsWithNewline(pathFor(day, part))) pending += '\n';
  }

  // Lines waiting for the microtask, all of one day and one part.
  let pending = '';
  let scheduled = false;
  // Lines a failed write left, oldest first, written again before `pending` by the next flush. They
  // go to the file of the day of that flush, not of their own: replay reads every file and goes by
  // the times in the lines, and pruning then keeps them a little longer, never shorter.
  let kept: string[] = [];
  let keptBytes = 0;
  // The current failure streak, reported once when it starts and once when it ends (not per line:
  // at one sign-up per write, a full disk would flood the log).
  let failing: { since: string; dropped: number } | null = null;

  /**
   * Writes the kept lines and the pending ones; returns the error if that failed. Runs in a
   * microtask, where a throw would end the process: the sign-ups are already committed, so a
   * journal that cannot be written is reported and its lines kept, never fatal.
   */
  function flush(): unknown {
    scheduled = false;
    if (!pending && !kept.length) return undefined;
    const path = pathFor(day, part);
    let text = kept.join('') + pending;
    pending = '';
    try {
      // A write that failed midway may have left a torn line: end it, or the next line would be
      // glued to it and both lost.
      if (failing && !endsWithNewline(path)) text = '\n' + text;
      appendLines(path, text);
    } catch (e) {
      const first = !failing;
      failing ??= { since: new Date(now()).toISOString(), dropped: 0 };
      if (first) log.error({ err: e, path }, 'journal write failed: sign-ups are stored, their journal lines are kept in memory and written once the file can be');
      keep(text);
      return e;
    }
    if (failing) {
      log.warn({ path, written: kept.length, dropped: failing.dropped, since: failing.since }, 'journal writable again: the kept lines are written');
      failing = null;
    }
    kept = [];
    keptBytes = 0;
    return undefined;
  }
  function keep(text: string): void {
    kept = text.split(/(?<=\n)/).filter((l) => l !== '\n');
    keptBytes = Buffer.byteLength(text);
    let dropped = 0;
    while (kept.length > KEPT_MAX_LINES || keptBytes > KEPT_MAX_BYTES) {
      keptBytes -= Buffer.byteLength(kept.shift()!);
      dropped += 1;
    }
    if (!dropped || !failing) return;
    // Reported when the streak first drops lines; the count at its end comes with the recovery.
    if (failing.dropped === 0) {
      log.error({ dropped, kept: kept.length }, `journal still not writable: dropping its oldest kept lines (at most ${KEPT_MAX_LINES} lines / ${KEPT_MAX_BYTES} bytes are kept); the database holds those sign-ups`);
    }
    failing.dropped += dropped;
  }
  function write(entry: JournalEntry): void {
    const d = new Date(now()).toISOString().slice(0, 10);
    const line = JSON.stringify(entry) + '\n';
    const bytes = Buffer.byteLength(line);
    if (d !== day) {
      flush();
      openDay(d);
    }
    if (size > 0 && size + bytes > maxBytes) {
      flush();
      part += 1;
      size = 0;
    }
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
    pending += line;
    size += bytes;
  }

  return {
    append(payload, meta) {
      if (closed) throw new Error('journal is closed');
      write({ type: 'signup', at: new Date(now()).toISOString(), payload, meta });
    },
    appendErasure(site, email, at = now()) {
      write({ type: 'erase', at: new Date(at).toISOString(), site, email_sha256: emailHash(site, email) });
      // The erasure's caller must know: without its record, a replay would bring the address back.
      const e = flush();
      if (e) throw e;
    },
    close() {
      flush();
      closed = true;
      if (kept.length) log.error({ lines: kept.length }, 'journal closed with lines it could not write: the database holds those sign-ups, the journal does not');
    },
  };
}

/** Reads entries; a torn last line (crash mid-write) is skipped, not fatal. */
export function readJournal(file: string): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as JournalEntry);
    } catch {
      // partial line from a crash: nothing to recover from it
    }
  }
  return out;
}

/** An address to scrub from the journal: its sign-ups on `site` collected at or before `before` (epoch ms). */
export interface ScrubTarget {
  site: string;
  email: string;
  /**
   * The erasure's time. A sign-up of the address collected after it was given anew: it is in the
   * database, and replay (which compares with the erase record's time) would restore it, so its
   * line stays.
   */
  before: number;
}

const SCRUB_LOCK = '.scrub.lock';
const CHUNK = 1 << 20;
/** Reads of what was appended during a scrub's pass, before its rename (see scrubFile). */
const CATCH_UP_ROUNDS = 3;
/**
 * How often, at most, a holder touches its lock as its scrub makes progress (per chunk read, per
 * file), so that the others can tell it is alive. Never from a timer: a timer shows that the
 * process is alive, and a scrub stuck on a hung read would keep its lock fresh forever.
 */
const LOCK_REFRESH_MS = 5_000;
/**
 * A lock not touched for this long is stale: its holder died (or stalled so long that it will see
 * the takeover at its next check and give up). Pids cannot tell: a server and a `docker run …
 * poplet erase` on one volume are both pid 1, and a dead holder's pid gets reused.
 */
export const LOCK_STALE_MS = 60_000;
/** A scrub's temporary file, `<journal file>.<token>.scrub` (`<journal file>.scrub` before tokens). */
const SCRUB_TMP = /^collect-\d{4}-\d{2}-\d{2}\.\d+\.jsonl\.(?:[0-9a-f]+\.)?scrub$/;
/** A lock being written, `.scrub.lock.<token>`: it lives for an instant, unless its writer died. */
const LOCK_TMP = /^\.scrub\.lock\.[0-9a-f]+$/;

/** The journal folder's scrub lock, held. */
export interface ScrubLock {
  /** This holder's own: its temporary files are named with it, so no two scrubbers share one. */
  token: string;
  /** Throws if the lock is no longer this holder's (another took it over as stale). */
  check(): void;
  /** Touches the lock, so it does not look stale. */
  refresh(): void;
  /** Deletes the lock, if it is still this holder's. */
  release(): void;
}

/** What a lock says about its holder; undefined when it is empty or unreadable. */
function lockHolder(path: string): { token?: unknown; host?: unknown; pid?: unknown } | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof v === 'object' && v !== null ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a file was last touched over LOCK_STALE_MS ago; a file that is gone counts as stale. */
function stale(path: string, now: number): boolean {
  try {
    return now - statSync(path).mtimeMs > LOCK_STALE_MS;
  } catch {
    return true;
  }
}

function heldLock(path: string, token: string): ScrubLock {
  let lost = false;
  const ours = () => !lost && lockHolder(path)?.token === token;
  return {
    token,
    check() {
      if (ours()) return;
      lost = true;
      throw new Error(`journal scrub: ${path} was taken over by another erasure (this one was stalled for over ${LOCK_STALE_MS / 1000} s); erase again`);
    },
    refresh() {
      try {
        if (!ours()) return;
        const t = new Date();
        utimesSync(path, t, t);
      } catch {
        // Gone, or the disk refuses: check() tells before anything is replaced.
      }
    },
    release() {
      if (ours()) rmSync(path, { force: true });
    },
  };
}

/**
 * Takes the scrubbers' lock of a journal folder if it is free or stale, without waiting; null
 * when someone holds it. The lock is written whole under a name of its own, then linked to the
 * lock's name: link() fails when the lock exists, as open(wx) does, but the lock appears with its
 * content, never empty or half written. An empty or unreadable lock (an older Poplet's, a crash)
 * is judged by its mtime like any other.
 */
export function tryLockScrub(dir: string, now = Date.now()): ScrubLock | null {
  const path = join(dir, SCRUB_LOCK);
  // Held and fresh: the common case while waiting, with no file written.
  if (!stale(path, now)) return null;
  const token = randomBytes(8).toString('hex');
  const tmp = `${path}.${token}`;
  try {
    // A full disk fails here, before anything is named the lock.
    writeFileSync(tmp, JSON.stringify({ token, host: hostname(), pid: process.pid, at: new Date(now).toISOString() }), { mode: 0o600 });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(tmp, path);
        return heldLock(path, token);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      if (!stale(path, now)) return null;
      // Two takers may both see it stale and both end up believing they hold it: the earlier one
      // finds the later one's token at its check() before any rename, and gives up.
      rmSync(path, { force: true });
    }
    return null;
  } finally {
    rmSync(tmp, { force: true });
  }
}

const stopped = () => new Error('journal scrub: stopped (the server is shutting down); erase again');

/**
 * Takes the lock, waiting for another scrubber (a CLI erase, the server's erasure queue) to
 * finish; its refresh() touches it at most every LOCK_REFRESH_MS, so the scrub can call it at each
 * step. A lock left by a holder that died (or whose scrub hangs) is taken over once stale, within
 * LOCK_STALE_MS.
 */
async function lockScrub(dir: string, timeoutMs: number, signal?: AbortSignal): Promise<ScrubLock> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw stopped();
    const lock = tryLockScrub(dir);
    if (lock) {
      let touched = Date.now();
      return {
        ...lock,
        refresh() {
          if (Date.now() - touched < LOCK_REFRESH_MS) return;
          touched = Date.now();
          lock.refresh();
        },
      };
    }
    if (Date.now() > end) {
      const path = join(dir, SCRUB_LOCK);
      const h = lockHolder(path);
      const who = h ? ` (host ${String(h.host)}, pid ${String(h.pid)})` : '';
      throw new Error(
        `journal scrub: ${path} is held by another erasure${who}; it is taken over once its holder has not refreshed it for ${LOCK_STALE_MS / 1000} s`,
      );
    }
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/**
 * Deletes what crashed scrubs left: their temporary files (a copy of a journal file, addresses
 * erased since included, that pruning and scrubs would otherwise never see) and lock files that
 * never became the lock. Only under the lock: a live scrubber's temporary file is its holder's.
 */
function removeLeftovers(dir: string, now: number): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    // A lock being written by a contender right now is an instant old: only old ones go.
    if (SCRUB_TMP.test(name) || (LOCK_TMP.test(name) && stale(path, now))) rmSync(path, { force: true });
  }
}

/**
 * Complete lines of `fh` from byte `pos` up to its size when called, handed to `each`; returns the
 * position after the last newline. Lines appended meanwhile are left for the next call: read to
 * the end, a file a writer keeps appending to would be chased for as long as it writes.
 */
async function eachLine(fh: FileHandle, pos: number, lock: ScrubLock, each: (line: Buffer) => Promise<void> | void): Promise<number> {
  const buf = Buffer.alloc(CHUNK);
  const end = (await fh.stat()).size;
  let carry = Buffer.alloc(0);
  let at = pos;
  while (at < end) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, end - at), at);
    lock.refresh(); // the scrub moves on (see LOCK_REFRESH_MS)
    if (bytesRead === 0) break;
    at += bytesRead;
    const data = carry.length ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
    let start = 0;
    for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, start)) {
      await each(data.subarray(start, nl + 1));
      start = nl + 1;
    }
    pos += start;
    // Copied: `buf` is reused by the next read.
    carry = Buffer.from(data.subarray(start));
  }
  // A last line without its newline is being written, or was torn by a crash: not consumed. The
  // writer of one in progress sees the file replaced and writes it again.
  return pos;
}

/** Builds the line test of a scrub: true for a sign-up line to drop. */
function dropper(targets: ScrubTarget[]): { drop(line: Buffer): boolean; removed: number } {
  const folded = targets.map((t) => ({ ...t, email: foldEmail(t.email) }));
  // The address as it appears inside a JSON line, to skip parsing the lines that cannot match.
  const needles = [...new Set(folded.map((t) => JSON.stringify(t.email).slice(1, -1)))];
  const state = {
    removed: 0,
    drop(line: Buffer): boolean {
      const text = line.toString('utf8');
      const lower = text.toLowerCase();
      if (!needles.some((n) => lower.includes(n))) return false;
      let e: JournalEntry;
      try {
        e = JSON.parse(text) as JournalEntry;
      } catch {
        return false;
      }
      if (e.type !== 'signup') return false;
      const email = foldEmail(String(e.payload.email));
      const collected = Date.parse(e.meta?.collected_at);
      const hit = folded.some((t) => t.site === e.payload.site && t.email === email && !(collected > t.before));
      if (hit) state.removed += 1;
      return hit;
    },
  };
  return state;
}

/** Rewrites one file without the lines `drop` picks, carrying over lines appended meanwhile. */
async function scrubFile(file: string, targets: ScrubTarget[], lock: ScrubLock): Promise<number> {
  let src: FileHandle;
  try {
    src = await open(file, 'r');
  } catch {
    return 0; // pruned meanwhile
  }
  try {
    // Most files hold none of the address: read them once, rewrite nothing.
    const probe = dropper(targets);
    let found = false;
    await eachLine(src, 0, lock, (line) => {
      if (!found && probe.drop(line)) found = true;
    });
    if (!found) return 0;

    const scrub = dropper(targets);
    const tmp = `${file}.${lock.token}.scrub`;
    const out = await open(tmp, 'w', 0o600);
    let pos = 0;
    try {
      let batch: Buffer[] = [];
      let size = 0;
      const write = async () => {
        if (!batch.length) return;
        await out.write(Buffer.concat(batch));
        batch = [];
        size = 0;
      };
      const keep = async (line: Buffer) => {
        if (scrub.drop(line)) return;
        batch.push(Buffer.from(line));
        size += line.length;
        if (size >= CHUNK) await write();
      };
      // The file, then what the writer appended meanwhile, until a read finds nothing new: only
      // what is appended in the instant before the rename is left to copy after it. Each round
      // reads what came during the one before, so it is shorter; under a steady stream of
      // sign-ups there is always something new, so a few rounds are enough.
      const catchUp = async (rounds: number) => {
        for (let round = 0; round < rounds; round++) {
          const next = await eachLine(src, pos, lock, keep);
          if (next === pos) break;
          pos = next;
        }
        await write();
      };
      await catchUp(1 + CATCH_UP_ROUNDS);
      await out.sync();
      await catchUp(CATCH_UP_ROUNDS); // what came during the fsync
      await out.close();
      lock.check();
      await rename(tmp, file);
    } catch (e) {
      await out.close().catch(() => {}); // already closed on a failed check or rename
      await rm(tmp, { force: true });
      throw e;
    }
    // What the writer appended to the old file in that instant: each write is whole lines, so
    // appending them in batches of whole lines keeps every line intact beside the writer's own.
    const tail = await open(file, 'a', 0o600);
    try {
      const lines: Buffer[] = [];
      await eachLine(src, pos, lock, (line) => {
        if (!scrub.drop(line)) lines.push(Buffer.from(line));
      });
      if (lines.length) await tail.write(Buffer.concat(lines));
    } finally {
      await tail.close();
    }
    return scrub.removed;
  } finally {
    await src.close();
  }
}

export interface ScrubOptions {
  /** How long to wait for another scrubber's lock (default two minutes). */
  lockTimeoutMs?: number;
  /** Stops waiting for the lock, and the scrub between two files (the server's shutdown). */
  signal?: AbortSignal;
}

/**
 * Rewrites the journal files holding sign-ups of the targets' addresses without them (one file at
 * a time, read in 1 MB chunks so a server's event loop keeps serving). Safe while a server or
 * another process appends (see the top of this file). Returns the number of lines removed.
 */
export async function scrubJournal(dir: string, targets: ScrubTarget[], options: ScrubOptions = {}): Promise<number> {
  if (!targets.length) return 0;
  const lock = await lockScrub(dir, options.lockTimeoutMs ?? 120_000, options.signal);
  try {
    removeLeftovers(dir, Date.now());
    let removed = 0;
    for (const file of journalFiles(dir)) {
      if (options.signal?.aborted) throw stopped();
      lock.refresh();
      removed += await scrubFile(file, targets, lock);
    }
    return removed;
  } finally {
    lock.release();
  }
}

export interface PruneOptions {
  /** When the oldest backup still kept was taken (epoch ms), if there is one. */
  oldestBackupAt?: number;
  /** Sign-ups older than this many days are deleted anyway (0: kept forever). */
  retentionDays: number;
  now?: number;
}

/**
 * Deletes the journal files nothing needs any more. Any kept backup may be the one restored (the
 * newest may be bad), and replay must then have every line since it was taken, erase records
 * included: a backup taken before an erasure holds the address, and only the erase record removes
 * it again. So a file may go once the OLDEST kept backup was taken after its last line (after its
 * UTC day ended: a row is committed before its line is written, and the backup's time, in its name,
 * is when it started). Otherwise it is kept until its UTC day is past the retention period: its
 * sign-ups, and those its erase records remove, are then old enough for the retention job to
 * delete from any restored database.
 */
export function pruneJournal(dir: string, opts: PruneOptions): number {
  const now = opts.now ?? Date.now();
  if (!existsSync(dir)) return 0;
  // Under the scrub lock, for the leftovers of crashed scrubs. A scrub running now keeps it for a
  // few seconds: pruning waits for the next daily run rather than hold the server's event loop.
  const lock = tryLockScrub(dir, Date.now());
  if (!lock) return 0;
  try {
    removeLeftovers(dir, Date.now());
    let removed = 0;
    for (const file of journalFiles(dir)) {
      const m = FILE.exec(file.slice(dir.length + 1));
      if (!m) continue;
      const dayEnd = Date.parse(`${m[1]}T00:00:00Z`) + 86_400_000;
      const covered = opts.oldestBackupAt !== undefined && opts.oldestBackupAt >= dayEnd;
      const expired = opts.retentionDays > 0 && dayEnd <= now - opts.retentionDays * 86_400_000;
      if (covered || expired) {
        unlinkSync(file);
        removed += 1;
      }
    }
    return removed;
  } finally {
    lock.release();
  }
}
