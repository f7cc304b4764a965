// Group commit: sign-ups arriving in the same turn of the event loop are stored in one
// transaction (one fsync), then each request is answered. Under load this turns hundreds of
// fsyncs a second into a few dozen; when idle a sign-up waits for nothing but its own commit.
// The fsync blocks the event loop while it lasts. Committing without it (synchronous=NORMAL) and
// fsyncing the WAL on libuv's thread pool before answering was tried, one fsync in flight at a
// time: 10 % slower on the 2-core CI machine (tests/bench/server.ts), the fsync's work being
// the kernel's CPU time more than waiting, and each commit smaller.
import type { Db } from './db';
import { insertSignups, type InsertResult, type NewSignup } from './signups';

interface Pending {
  item: NewSignup;
  resolve(r: InsertResult): void;
  reject(e: unknown): void;
}

export interface SignupWriter {
  /** Resolves once the row is committed (or the original is found). */
  write(item: NewSignup): Promise<InsertResult>;
  /** Commits what is queued now; used on shutdown. */
  flush(): void;
}

/** Largest batch per transaction, so one commit never holds the event loop for long. */
const MAX_BATCH = 500;

export function createSignupWriter(db: Db): SignupWriter {
  let queue: Pending[] = [];
  let scheduled = false;

  function commit(batch: Pending[]): void {
    try {
      const results = insertSignups(db, batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (e) {
      // One bad row must not fail its neighbours: retry them one by one.
      if (batch.length === 1) batch[0]!.reject(e);
      else for (const p of batch) commit([p]);
    }
  }

  function flush(): void {
    scheduled = false;
    while (queue.length) {
      const batch = queue.length > MAX_BATCH ? queue.splice(0, MAX_BATCH) : queue;
      if (batch === queue) queue = [];
      commit(batch);
    }
  }

  return {
    write(item) {
      return new Promise<InsertResult>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    flush,
  };
}
