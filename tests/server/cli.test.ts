import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/server/cli';
import { buildApp } from '../../src/server/app';
import { loadConfig } from '../../src/server/config';
import { silentLog } from '../../src/server/log';
import { openDb } from '../../src/server/store/db';
import { loadSecret } from '../../src/server/store/keys';

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
    expect(text).toContain('hook add --site ID --url URL [--campaign WISEPOP_ID]');
    expect(text).toContain('hook delete --site ID HOOK_ID');
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

describe('poplet hook', () => {
  // Public IP literals: the SSRF check needs no DNS for them, so the test needs no network.
  const PUBLIC = 'https://93.184.216.34/hook';
  const newSite = async (domain: string) => (await cli('site', 'add', '--domain', domain))[0]!.replace(/^site id:\s+/, '');
  const hookIds = async (site: string) => (await cli('hook', 'list', '--site', site)).filter((l) => /^\d+ /.test(l)).map((l) => Number(l.split(' ')[0]));

  it('adds, lists and deletes a site\'s hooks', async () => {
    const site = await newSite('hooks-cli.example');
    expect(await cli('hook', 'list', '--site', site)).toEqual([`no hooks for site ${site}: poplet hook add --site ${site} --url https://...`]);
    const [added] = await cli('hook', 'add', '--site', site, '--url', PUBLIC);
    const id = Number(/^hook id:\s+(\d+)$/.exec(added!)?.[1]);
    expect(id).toBeGreaterThan(0);
    // The same hook again: the same id, as the API's idempotent create.
    expect(await cli('hook', 'add', '--site', site, '--url', PUBLIC)).toEqual([`hook id:  ${id} (this hook already existed)`]);
    const [one] = await cli('hook', 'add', '--site', site, '--url', PUBLIC, '--campaign', '12345');
    const campaignHook = Number(/^hook id:\s+(\d+)$/.exec(one!)?.[1]);
    const listed = await cli('hook', 'list', '--site', site);
    expect(listed).toHaveLength(2);
    expect(listed[0]).toMatch(new RegExp(`^${id}  email  ${PUBLIC}  campaign=all  status=ok  pending=0 failed=0 sent=0  created=\\S+$`));
    expect(listed[1]).toMatch(new RegExp(`^${campaignHook}  email  ${PUBLIC}  campaign=12345 `));
    expect(await cli('hook', 'retry', '--site', site, String(id))).toEqual([`requeued 0 failed deliveries of hook ${id}`]);
    expect(await cli('hook', 'delete', '--site', site, String(id))).toEqual([`deleted hook ${id} and its pending deliveries`]);
    expect(await hookIds(site)).toEqual([campaignHook]);
    await expect(cli('hook', 'delete', '--site', site, String(id))).rejects.toThrow(`hook ${id} not found for site ${site}`);
  });

  it("never touches another site's hooks, and checks the site and the id", async () => {
    const mine = await newSite('hooks-mine.example');
    const theirs = await newSite('hooks-theirs.example');
    await cli('hook', 'add', '--site', theirs, '--url', PUBLIC);
    const [id] = await hookIds(theirs);
    await expect(cli('hook', 'delete', '--site', mine, String(id))).rejects.toThrow(`hook ${id} not found for site ${mine}`);
    await expect(cli('hook', 'retry', '--site', mine, String(id))).rejects.toThrow(/not found/);
    expect(await hookIds(theirs)).toEqual([id]);
    expect(await hookIds(mine)).toEqual([]);
    await expect(cli('hook', 'add', '--site', 'nope', '--url', PUBLIC)).rejects.toThrow('unknown site nope');
    await expect(cli('hook', 'list', '--site', 'nope')).rejects.toThrow('unknown site nope');
    await expect(cli('hook', 'add', '--url', PUBLIC)).rejects.toThrow('missing --site ID');
    await expect(cli('hook', 'add', '--site', mine)).rejects.toThrow('missing --url URL');
    await expect(cli('hook', 'delete', '--site', mine, 'abc')).rejects.toThrow('HOOK_ID must be a positive integer');
    await expect(cli('hook', 'delete', '--site', mine)).rejects.toThrow('missing HOOK_ID');
    await expect(cli('hook', 'frobnicate')).rejects.toThrow(/unknown command: hook frobnicate/);
  });

  it('refuses exactly what POST /api1/hooks refuses, with the same reason', async () => {
    const site = await newSite('hooks-parity.example');
    const key = (await cli('site', 'rotate-key', site))[0]!.replace(/^api key:\s+/, '');
    const config = loadConfig({ POPLET_DATA: dir });
    const deps = { db: openDb(config.dbPath), config, secret: loadSecret(dir), log: silentLog };
    // The API as `serve` runs it with this data folder, and with HTTPS required (seen over TLS via a proxy).
    const plain = buildApp(deps);
    const secure = buildApp({ ...deps, config: { ...config, requireHttps: true, trustProxy: true } });
    try {
      for (const [flags, body] of [
        [['--url', 'http://127.0.0.1:8080/hook'], { event: 'email', target_url: 'http://127.0.0.1:8080/hook' }],
        [['--url', 'http://169.254.169.254/latest/meta-data/'], { event: 'email', target_url: 'http://169.254.169.254/latest/meta-data/' }],
        [['--url', 'http://[::ffff:10.0.0.1]/x'], { event: 'email', target_url: 'http://[::ffff:10.0.0.1]/x' }],
        [['--url', 'ftp://93.184.216.34/in'], { event: 'email', target_url: 'ftp://93.184.216.34/in' }],
        [['--url', 'not a url'], { event: 'email', target_url: 'not a url' }],
        [['--url', PUBLIC, '--event', 'display'], { event: 'display', target_url: PUBLIC }],
        [['--url', PUBLIC, '--campaign', 'abc'], { event: 'email', target_url: PUBLIC, wisepop_id: 'abc' }],
        [['--url', PUBLIC, '--campaign', '-3'], { event: 'email', target_url: PUBLIC, wisepop_id: -3 }],
        [['--url', 'http://93.184.216.34/in', '--require-https'], { event: 'email', target_url: 'http://93.184.216.34/in' }],
      ] as const) {
        const https = (flags as readonly string[]).includes('--require-https');
        const api = await (https ? secure : plain).inject({
          method: 'POST',
          url: '/api1/hooks',
          payload: body,
          headers: { authorization: `WISEPOPS-API key="${key}"`, ...(https ? { 'x-forwarded-proto': 'https' } : {}) },
        });
        expect(api.statusCode, flags.join(' ')).toBe(422);
        const { error } = api.json<{ error: string }>();
        await expect(cli('hook', 'add', '--site', site, ...flags), flags.join(' ')).rejects.toThrow(`hook refused: ${error}`);
      }
      expect(await hookIds(site)).toEqual([]);
      // What the API lets through with private hooks allowed, the CLI does with the same flag.
      const [ok] = await cli('hook', 'add', '--site', site, '--url', 'http://127.0.0.1:8080/hook', '--allow-private-hooks');
      expect(ok).toMatch(/^hook id:\s+\d+$/);
    } finally {
      await plain.close();
      await secure.close();
      deps.db.close();
    }
  });

  it('warns that an http target is posted unencrypted and may be held back by a server requiring HTTPS', async () => {
    const site = await newSite('hooks-http.example');
    const lines = await cli('hook', 'add', '--site', site, '--url', 'http://93.184.216.34/in');
    expect(lines[0]).toMatch(/^hook id:/);
    expect(lines[1]).toMatch(/^warning: http:\/\/93\.184\.216\.34\/in is http: sign-ups will be posted unencrypted/);
    expect(await cli('hook', 'add', '--site', site, '--url', PUBLIC)).toHaveLength(1);
  });
});

