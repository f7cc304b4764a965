// `restore` replaces the database file: with a server still running on it, the server keeps its
// connection to the replaced file and goes on answering 2xx for sign-ups that are lost at its next
// start. README: restore is for a stopped server; it must refuse otherwise.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { backup, restore } from '../../src/server/lifecycle/backup';
import { openDb } from '../../src/server/store/db';
import { post, signup, startFixture, type Fixture } from './fixture';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('restore while the server runs', () => {
  it('is refused, and the sign-ups acknowledged after it are kept', async () => {
    fx = await startFixture({ collectPerMinute: 0, backupEveryHours: 0 });
    expect((await post(`${fx.url}/collect`, signup(fx.site))).status).toBe(201);
    const file = await backup({ db: fx.db }, join(fx.dir, 'backups'));
    expect((await post(`${fx.url}/collect`, signup(fx.site))).status).toBe(201);
    const dbPath = join(fx.dir, 'poplet.db');
    expect(() => restore(file, dbPath)).toThrow(/open in another process/);
    expect(existsSync(`${dbPath}.before-restore`)).toBe(false);
    expect((await post(`${fx.url}/collect`, signup(fx.site))).status).toBe(201);
    // Every acknowledged sign-up is still in the file the server writes to, and after a restart.
    await fx.server.close();
    fx.db.close();
    const db = openDb(dbPath);
    expect(db.prepare('SELECT COUNT(*) FROM signups').pluck().get()).toBe(3);
    db.close();
    // Stopped, it restores.
    restore(file, dbPath);
    const restored = openDb(dbPath);
    expect(restored.prepare('SELECT COUNT(*) FROM signups').pluck().get()).toBe(1);
    restored.close();
    fx.db = openDb(dbPath); // for the fixture's close
    fx.server = { close: async () => {} } as typeof fx.server;
  });
});

describe('restoring the copy restore kept (undoing a restore)', () => {
  it('brings back the database the first restore replaced, and keeps the one it replaces in turn', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { addSite } = await import('../../src/server/store/sites');
    const { randomBytes } = await import('node:crypto');
    const { beforeRestorePath } = await import('../../src/server/lifecycle/backup');
    const dir = mkdtempSync(join(tmpdir(), 'poplet-undo-'));
    try {
      const dbPath = join(dir, 'poplet.db');
      const sites = () => {
        const db = openDb(dbPath);
        try {
          return db.prepare('SELECT COUNT(*) FROM sites').pluck().get();
        } finally {
          db.close();
        }
      };
      let db = openDb(dbPath);
      addSite(db, randomBytes(32), { domain: 'a.example' });
      const file = await backup({ db }, join(dir, 'backups'));
      addSite(db, randomBytes(32), { domain: 'b.example' });
      addSite(db, randomBytes(32), { domain: 'c.example' });
      db.close();
      restore(file, dbPath);
      expect(sites()).toBe(1);
      // The wrong backup: back to the database as it was.
      restore(beforeRestorePath(dbPath), dbPath);
      expect(sites()).toBe(3);
      // and the one just replaced is the kept copy now.
      db = openDb(beforeRestorePath(dbPath));
      expect(db.prepare('SELECT COUNT(*) FROM sites').pluck().get()).toBe(1);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
