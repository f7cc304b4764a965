import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/server/cli';

const dir = mkdtempSync(join(tmpdir(), 'poplet-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<string[]> {
  const lines: string[] = [];
  await run([...argv, '--data', dir], (l) => lines.push(l));
  return lines;
}

describe('poplet CLI', () => {
  it.each([['help'], ['--help'], ['-h']])('%s prints the usage and succeeds', async (arg) => {
    const [text] = await cli(arg);
    expect(text).toMatch(/^poplet <command>/);
    expect(text).toContain('site add --domain D');
    expect(text).toContain('backup [--dir DIR] [--keep N]');
  });

  it('refuses an unknown command with a usage error', async () => {
    await expect(cli('frobnicate')).rejects.toThrow(/unknown command: frobnicate/);
  });

  it('backup --keep 0 is refused before anything is written or deleted', async () => {
    const backups = join(dir, 'kept');
    await cli('backup', '--dir', backups);
    await expect(cli('backup', '--dir', backups, '--keep', '0')).rejects.toThrow(/keep must be/);
    await expect(cli('backup', '--dir', backups, '--keep', 'many')).rejects.toThrow(/keep must be/);
    expect(readdirSync(backups).filter((n) => n.endsWith('.sqlite'))).toHaveLength(1);
  });
});
