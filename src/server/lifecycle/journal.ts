// The recovery journal: an append-only JSON-lines log of every accepted POST /collect, so that a
// lost database can be rebuilt from the last backup plus the journal (`replay`). One file per UTC
// day, cut into numbered parts past `maxBytes`. Put the folder on other storage than the database
// (or sync it off the host) for it to survive a disk loss.
//
// Lines appended in one turn of the event loop are written together, in a microtask: a group
// commit answers many sign-ups at once, and one open/append/close for all of them keeps the
// journal off the hot path. A microtask runs before any other request is handled, so an erasure
// (which rewrites journal files so an erased address does not linger) never races a pending line.
// Opening the file per write keeps the writer correct when files are rotated or scrubbed.
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SignupPayload } from '../../shared/signup';

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
  /** Records that an address was erased (hash only), so a replay does not bring it back. */
  appendErasure(site: string, email: string): void;
  close(): void;
}

const FILE = /^collect-(\d{4}-\d{2}-\d{2})\.(\d+)\.jsonl$/;

export function emailHash(site: string, email: string): string {
  return createHash('sha256').update(`${site}\n${email.trim().toLowerCase()}`).digest('hex');
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

export function createJournal(dir: string, options: { maxBytes?: number; now?: () => number } = {}): Journal {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const now = options.now ?? Date.now;
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
  }

  // Lines waiting for the microtask, all of one day and one part.
  let pending = '';
  function flush(): void {
    if (!pending) return;
    appendFileSync(pathFor(day, part), pending, { mode: 0o600 });
    pending = '';
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
    if (!pending) queueMicrotask(flush);
    pending += line;
    size += bytes;
  }

  return {
    append(payload, meta) {
      if (closed) throw new Error('journal is closed');
      write({ type: 'signup', at: new Date(now()).toISOString(), payload, meta });
    },
    appendErasure(site, email) {
      write({ type: 'erase', at: new Date(now()).toISOString(), site, email_sha256: emailHash(site, email) });
      flush();
    },
    close() {
      flush();
      closed = true;
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

/**
 * Rewrites every journal file without the sign-ups of `email` on `site` (atomic rename per
 * file). Returns the number of lines removed.
 */
export function scrubJournal(dir: string, site: string, email: string): number {
  const target = email.trim().toLowerCase();
  let removed = 0;
  for (const file of journalFiles(dir)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    const kept = lines.filter((line) => {
      if (!line) return false;
      try {
        const e = JSON.parse(line) as JournalEntry;
        const drop = e.type === 'signup' && e.payload.site === site && String(e.payload.email).trim().toLowerCase() === target;
        if (drop) removed += 1;
        return !drop;
      } catch {
        return true;
      }
    });
    if (kept.length === lines.filter(Boolean).length) continue;
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, kept.map((l) => l + '\n').join(''), { mode: 0o600 });
    renameSync(tmp, file);
  }
  return removed;
}

/** Deletes journal files of days before `keepDays` ago (they predate every kept backup). */
export function pruneJournal(dir: string, keepDays: number, now = Date.now()): number {
  const cutoff = new Date(now - keepDays * 86_400_000).toISOString().slice(0, 10);
  let removed = 0;
  for (const file of journalFiles(dir)) {
    const m = FILE.exec(file.slice(dir.length + 1));
    if (m && m[1]! < cutoff) {
      unlinkSync(file);
      removed += 1;
    }
  }
  return removed;
}
