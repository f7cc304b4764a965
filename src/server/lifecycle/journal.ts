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
//   in that last instant (the tail);
// - scrubbers take turns through a lock file (two rewriting one file would undo each other).
// Any append lands in the new file one way or the other: appended to the old file, the scrubber
// carries it (in a catch-up read, or right after the rename); after the rename, the writer sees it.
//
// A writer whose check ran before the rename is done: its line is in the old file only, and only
// the scrubber's copy of the tail brings it over. So the old file is never left without a name
// while its tail is not copied: before the rename the scrubber links it as
// `<file>.<token>.<offset>.tail` (offset: where the tail starts), and deletes that name only once
// the tail is in the new file. A scrubber killed in between leaves the tail's name: the next scrub
// or pruning carries the tail then (without the lines its targets drop, read from
// `.scrub.<token>.targets`, hashes only), and replay reads it meanwhile. Killed before the rename,
// the file is untouched and the tail's name is a second name of it, simply deleted.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync, existsSync, fstatSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, unlinkSync,
  utimesSync, writeFileSync, writeSync,
} from 'node:fs';
import { link, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
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
  /**
   * The tombstones of the sign-ups the erasure deleted (store/tombstones.ts, idHashHex), which
   * replay records again: a retry of one must not store the address again after a restore.
   * Absent from records written before tombstones.
   */
  ids?: string[];
}

export type JournalEntry = SignupEntry | EraseEntry;

export interface Journal {
  append(payload: SignupPayload, meta: JournalMeta): void;
  /**
   * Records that an address was erased (hash only), so a replay does not bring it back; `at`:
   * when, as replay compares it with collected_at (default now); `ids`: the hashes of the deleted
   * sign-ups' browser ids (their tombstones).
   */
  appendErasure(site: string, email: string, at?: number, ids?: string[]): void;
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

/**
 * The journal writers of this process, by folder: a scrub drops its targets' lines from the lines
 * they hold in memory (kept after a failed write, or waiting for their microtask), which no file
 * has yet. Written later, after the scrub, they would put the erased address back in the journal.
 */
const writers = new Map<string, Set<(drop: (line: Buffer) => boolean) => void>>();

/** Drops the lines `drop` selects from the memory of this process's journal writers on `dir`. */
function dropFromWriters(dir: string, drop: (line: Buffer) => boolean): void {
  for (const forget of writers.get(resolve(dir)) ?? []) forget(drop);
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
  const forget = (drop: (line: Buffer) => boolean): void => {
    const before = kept.length;
    kept = kept.filter((l) => !drop(Buffer.from(l)));
    if (kept.length !== before) keptBytes = kept.reduce((n, l) => n + Buffer.byteLength(l), 0);
    if (pending) pending = pending.split(/(?<=\n)/).filter((l) => !drop(Buffer.from(l))).join('');
  };
  const key = resolve(dir);
  if (!writers.has(key)) writers.set(key, new Set());
  writers.get(key)!.add(forget);

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
    appendErasure(site, email, at = now(), ids = []) {
      write({ type: 'erase', at: new Date(at).toISOString(), site, email_sha256: emailHash(site, email), ...(ids.length ? { ids } : {}) });
      // The erasure's caller must know: without its record, a replay would bring the address back.
      const e = flush();
      if (e) throw e;
    },
    close() {
      flush();
      closed = true;
      writers.get(key)?.delete(forget);
      if (kept.length) log.error({ lines: kept.length }, 'journal closed with lines it could not write: the database holds those sign-ups, the journal does not');
    },
  };
}

/** Parses lines; a torn one (crash mid-write) is skipped, not fatal. */
function parseLines(lines: string[]): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (const line of lines) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as JournalEntry);
    } catch {
      // partial line from a crash: nothing to recover from it
    }
  }
  return out;
}

/** Reads entries; a torn last line (crash mid-write) is skipped, not fatal. */
export function readJournal(file: string): JournalEntry[] {
  return parseLines(readFileSync(file, 'utf8').split('\n'));
}

/**
 * The entries of the tails that scrubs killed after their rename did not copy (see the top): they
 * are in no journal file until the next scrub or pruning carries them. A tail whose file was never
 * replaced is a second name of that file, read already. `file`: only the tails of that journal
 * file (its name in `dir`), for a replay of one file.
 */
export function readScrubTails(dir: string, file?: string): JournalEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: JournalEntry[] = [];
  for (const name of names) {
    const m = SCRUB_TAIL.exec(name);
    const tail = join(dir, name);
    if (!m || (file !== undefined && m[1] !== file) || inode(tail) === inode(join(dir, m[1]!))) continue;
    try {
      out.push(...parseLines(linesFrom(tail, Number(m[3])).map((l) => l.toString('utf8'))));
    } catch {
      // Carried and deleted meanwhile: its lines are in its file.
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
/** A replaced file whose tail, from the byte offset, may not be copied yet (see the top). */
const SCRUB_TAIL = /^(collect-\d{4}-\d{2}-\d{2}\.\d+\.jsonl)\.([0-9a-f]+)\.(\d+)\.tail$/;
/** A scrub's targets, for the one that carries its tails if it dies (see the top). */
const SCRUB_TARGETS = /^\.scrub\.([0-9a-f]+)\.targets$/;
const targetsFile = (dir: string, token: string) => join(dir, `.scrub.${token}.targets`);

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
 * Clears up after crashed scrubs: first carries the tails they left (see the top), then deletes
 * their temporary files (a copy of a journal file, addresses erased since included, that pruning
 * and scrubs would otherwise never see), their targets and lock files that never became the lock.
 * Only under the lock: a live scrubber's files are its holder's.
 */
function removeLeftovers(dir: string, now: number): void {
  const names = readdirSync(dir);
  for (const name of names) {
    const m = SCRUB_TAIL.exec(name);
    if (m) carryTail(join(dir, name), join(dir, m[1]!), Number(m[3]), savedDropper(dir, m[2]!).drop);
  }
  for (const name of names) {
    const path = join(dir, name);
    // A lock being written by a contender right now is an instant old: only old ones go.
    if (SCRUB_TMP.test(name) || SCRUB_TARGETS.test(name) || (LOCK_TMP.test(name) && stale(path, now))) rmSync(path, { force: true });
  }
}

/** The line test of a dead scrub, from the targets it saved. */
function savedDropper(dir: string, token: string): ReturnType<typeof dropper> {
  let targets: DropTarget[] = [];
  try {
    const v = JSON.parse(readFileSync(targetsFile(dir, token), 'utf8')) as unknown;
    if (Array.isArray(v)) targets = v as DropTarget[];
  } catch {
    // Written before the scrub's first tail and deleted after its last, so missing only if
    // damaged: the tail is then carried whole. No sign-up is lost, and replay still applies the
    // erase records; the next erasure of the address scrubs it.
  }
  return dropper(targets);
}

/** The complete lines of a file from byte `pos` (a last line without its newline is left, as by eachLine). */
function linesFrom(path: string, pos: number): Buffer[] {
  const fd = openSync(path, 'r');
  let data: Buffer;
  try {
    data = Buffer.alloc(Math.max(0, fstatSync(fd).size - pos));
    let off = 0;
    while (off < data.length) {
      const n = readSync(fd, data, off, data.length - off, pos + off);
      if (n === 0) break;
      off += n;
    }
    data = data.subarray(0, off);
  } finally {
    closeSync(fd);
  }
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, start)) {
    lines.push(data.subarray(start, nl + 1));
    start = nl + 1;
  }
  return lines;
}

/**
 * Appends the tail of a replaced file (its lines from `pos`, but those `drop` picks) to the file
 * now at its path, then deletes the tail's name: in that order, so that a crash in between leaves
 * the tail to be carried again (a line may then be there twice: replay deduplicates). A tail whose
 * file was never replaced is a second name of it: only the name goes.
 */
function carryTail(tail: string, file: string, pos: number, drop: (line: Buffer) => boolean): void {
  const ino = inode(tail);
  if (ino === undefined) return;
  if (ino !== inode(file)) {
    const lines = linesFrom(tail, pos).filter((l) => !drop(l));
    if (lines.length) {
      // Whole lines in one append, as the writer's, so neither splits the other's; after a line a
      // crashed writer tore, on a line of their own.
      const bytes = Buffer.concat(endsWithNewline(file) ? lines : [Buffer.from('\n'), ...lines]);
      const fd = openSync(file, 'a', 0o600);
      try {
        for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
      } finally {
        closeSync(fd);
      }
    }
  }
  rmSync(tail, { force: true });
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

/**
 * A scrub target as the line test takes it: the address hashed as in erase records, so that a
 * scrub can save its targets for whoever carries its tails (see the top) without the address.
 */
interface DropTarget {
  site: string;
  email_sha256: string;
  before: number;
}

interface ScrubRule {
  targets: DropTarget[];
  /** The addresses as they appear inside a JSON line, to skip parsing the lines that cannot match. */
  needles: string[];
}

function scrubRule(targets: ScrubTarget[]): ScrubRule {
  return {
    targets: targets.map((t) => ({ site: t.site, email_sha256: emailHash(t.site, t.email), before: t.before })),
    needles: [...new Set(targets.map((t) => JSON.stringify(foldEmail(t.email)).slice(1, -1)))],
  };
}

/**
 * Builds the line test of a scrub: true for a sign-up line to drop. Without needles every line is
 * parsed (a dead scrub's tail: a few lines, and only the hashes were saved).
 */
function dropper(targets: DropTarget[], needles?: string[]): { drop(line: Buffer): boolean; removed: number } {
  const state = {
    removed: 0,
    drop(line: Buffer): boolean {
      const text = line.toString('utf8');
      if (needles) {
        const lower = text.toLowerCase();
        if (!needles.some((n) => lower.includes(n))) return false;
      }
      let e: JournalEntry;
      try {
        e = JSON.parse(text) as JournalEntry;
      } catch {
        return false;
      }
      if (e.type !== 'signup') return false;
      const site = e.payload.site;
      const hash = emailHash(site, String(e.payload.email));
      const collected = Date.parse(e.meta?.collected_at);
      const hit = targets.some((t) => t.site === site && t.email_sha256 === hash && !(collected > t.before));
      if (hit) state.removed += 1;
      return hit;
    },
  };
  return state;
}

/** Rewrites one file without the lines `rule` drops, carrying over lines appended meanwhile. */
async function scrubFile(file: string, rule: ScrubRule, lock: ScrubLock): Promise<number> {
  let src: FileHandle;
  try {
    src = await open(file, 'r');
  } catch {
    return 0; // pruned meanwhile
  }
  try {
    // Most files hold none of the address: read them once, rewrite nothing.
    const probe = dropper(rule.targets, rule.needles);
    let found = false;
    await eachLine(src, 0, lock, (line) => {
      if (!found && probe.drop(line)) found = true;
    });
    if (!found) return 0;

    const scrub = dropper(rule.targets, rule.needles);
    const tmp = `${file}.${lock.token}.scrub`;
    const out = await open(tmp, 'w', 0o600);
    let pos = 0;
    let tail: string | undefined;
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
      // From here on the old file keeps a name until its tail is in the new one (see the top).
      tail = `${file}.${lock.token}.${pos}.tail`;
      await link(file, tail);
      await rename(tmp, file);
    } catch (e) {
      await out.close().catch(() => {}); // already closed on a failed check or rename
      await rm(tmp, { force: true });
      // Not replaced: the tail's name is only a second name of the file. Replaced all the same (a
      // rename reported failed after it was done), it holds the tail: left for the next scrub.
      if (tail !== undefined && inode(tail) === inode(file)) await rm(tail, { force: true });
      throw e;
    }
    // What the writer appended to the old file in the last instant. A failure leaves the tail's
    // name, and this scrub's targets, for the next scrub to carry it with.
    carryTail(tail, file, pos, scrub.drop);
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
  // Lines no file holds yet (a journal whose disk was full keeps them in memory): gone before the
  // files are, so no write after this scrub brings the address back.
  const early = scrubRule(targets);
  dropFromWriters(dir, dropper(early.targets, early.needles).drop);
  const lock = await lockScrub(dir, options.lockTimeoutMs ?? 120_000, options.signal);
  const saved = targetsFile(dir, lock.token);
  try {
    removeLeftovers(dir, Date.now());
    const rule = scrubRule(targets);
    // Before any tail of this scrub can exist: if it dies, whoever carries its tails drops what
    // it would have.
    writeFileSync(saved, JSON.stringify(rule.targets), { mode: 0o600 });
    let removed = 0;
    for (const file of journalFiles(dir)) {
      if (options.signal?.aborted) throw stopped();
      lock.refresh();
      removed += await scrubFile(file, rule, lock);
    }
    return removed;
  } finally {
    try {
      // Kept while a tail of this scrub is left (its copy failed): the next scrub carries it with them.
      if (!readdirSync(dir).some((n) => SCRUB_TAIL.exec(n)?.[2] === lock.token)) rmSync(saved, { force: true });
    } finally {
      lock.release();
    }
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
  return pruneJournalFolder(dir, opts).removed;
}

export interface PruneResult {
  /** Journal files deleted. */
  removed: number;
  /**
   * Set when nothing ran, neither the pruning nor the recovery of dead scrubs' leftovers (their
   * tails, which hold the address being erased), because the scrub lock was held: when it turns
   * stale if its holder does not touch it again (epoch ms, from its time stamp). A dead scrub's
   * lock, however fresh at its death, is taken over then; a live scrub carries the leftovers itself.
   */
  lockedUntil?: number;
}

/** pruneJournal, telling whether the scrub lock kept it from running, and until when. */
export function pruneJournalFolder(dir: string, opts: PruneOptions): PruneResult {
  const now = opts.now ?? Date.now();
  if (!existsSync(dir)) return { removed: 0 };
  // Under the scrub lock, for the leftovers of crashed scrubs. A scrub running now keeps it for a
  // few seconds: pruning does not wait for it, which would hold the server's event loop; its
  // caller tries again once the lock would be stale (lifecycle/retention.ts).
  const lock = tryLockScrub(dir, Date.now());
  if (!lock) {
    let touched: number;
    try {
      touched = statSync(join(dir, SCRUB_LOCK)).mtimeMs;
    } catch {
      touched = Date.now() - LOCK_STALE_MS; // released meanwhile: free now
    }
    return { removed: 0, lockedUntil: touched + LOCK_STALE_MS };
  }
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
    return { removed };
  } finally {
    lock.release();
  }
}
