// The connection settings every part of the server relies on, as openDb sets them: durability
// (WAL, fsync per commit unless asked otherwise), erasure (secure_delete), integrity (foreign
// keys), waiting for the CLI (busy timeout) and the checkpoint interval the /collect bench chose.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/server/store/db';

let dir = '';
const open: Db[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const settings = (db: Db) =>
  Object.fromEntries(
    ['journal_mode', 'synchronous', 'secure_delete', 'foreign_keys', 'busy_timeout', 'wal_autocheckpoint'].map((p) => [p, db.pragma(p, { simple: true })]),
  );

describe('openDb', () => {
  it('sets the same connection settings on every connection, synchronous as asked', () => {
    dir = mkdtempSync(join(tmpdir(), 'poplet-pragmas-'));
    const full = openDb(join(dir, 'poplet.db'));
    const normal = openDb(join(dir, 'poplet.db'), { synchronous: 'normal' });
    open.push(full, normal);
    const common = { journal_mode: 'wal', secure_delete: 1, foreign_keys: 1, busy_timeout: 5000, wal_autocheckpoint: 10_000 };
    expect(settings(full)).toEqual({ ...common, synchronous: 2 });
    expect(settings(normal)).toEqual({ ...common, synchronous: 1 });
  });
});
