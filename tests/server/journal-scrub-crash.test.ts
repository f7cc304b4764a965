// A scrub that dies right after it replaced a journal file must not take with it the lines the
// server appended to the old file while the scrub read it and fsynced its copy. Dying is simulated
// by a rename that throws once it has renamed, so nothing the scrub would do after it (the copy
// of the lines appended in the last instant) happens.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createJournal, journalFiles, readJournal, scrubJournal } from '../../src/server/lifecycle/journal';

const hooks = vi.hoisted(() => ({
  /** Called when the scrub fsyncs its copy, before it resolves. */
  onSync: (): void => {},
  crashAfterRename: false,
}));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const rename: typeof fs.rename = async (from, to) => {
    await fs.rename(from, to);
    if (hooks.crashAfterRename && String(to).endsWith('.jsonl')) throw new Error('killed right after the rename');
  };
  const open: typeof fs.open = async (...args) => {
    const fh = await fs.open(...args);
    if (String(args[0]).endsWith('.scrub')) {
      const sync = fh.sync.bind(fh);
      fh.sync = async () => {
        hooks.onSync();
        return sync();
      };
    }
    return fh;
  };
  return { ...fs, default: { ...fs, rename, open }, rename, open };
});

let dir: string | undefined;
afterEach(() => {
  hooks.onSync = () => {};
  hooks.crashAfterRename = false;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('journal scrub killed between its rename and the end', () => {
  it('keeps every line appended to the old file during the pass and the fsync', async () => {
    dir = mkdtempSync(join(tmpdir(), 'poplet-scrub-crash-'));
    const journal = createJournal(dir);
    const meta = { collected_at: new Date(Date.now() - 1000).toISOString(), ip: '192.0.2.1', country_code: null };
    const p = (id: string, email: string) => ({ id, site: 's1', wisepop_id: 1, email, fields: { x: 'y'.repeat(300) } });
    journal.append(p('victim-0001', 'victim@example.com'), meta);
    for (let i = 0; i < 60_000; i++) journal.append(p(`pad-${i}`, `pad${i}@example.com`), meta); // ~25 MB
    await null;

    // The server keeps accepting sign-ups while the scrub reads, and while it fsyncs its copy;
    // then it pauses (what is appended in the instant before the rename is copied after it:
    // journal-scrub-kill.test.ts kills the scrub there).
    const appended: string[] = [];
    const add = () => {
      const id = `live-${appended.length}`;
      journal.append(p(id, `${id}@example.com`), meta);
      appended.push(id);
    };
    const writer = setInterval(add, 1);
    hooks.onSync = () => {
      clearInterval(writer);
      for (let i = 0; i < 20; i++) add();
    };
    hooks.crashAfterRename = true;
    await expect(scrubJournal(dir, [{ site: 's1', email: 'victim@example.com', before: Date.now() }])).rejects.toThrow(/killed/);
    clearInterval(writer);
    journal.close();

    expect(appended.length).toBeGreaterThan(20);
    const ids = new Set(journalFiles(dir).flatMap(readJournal).map((e) => (e.type === 'signup' ? e.payload.id : '')));
    expect(appended.filter((id) => !ids.has(id))).toEqual([]);
    expect(ids.has('victim-0001')).toBe(false);
  });
});
