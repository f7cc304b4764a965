import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/server/cli';
import { buildApp } from '../../src/server/app';
import { loadConfig } from '../../src/server/config';
import { silentLog } from '../../src/server/log';
import { openDb } from '../../src/server/store/db';
import { loadSecret } from '../../src/server/store/keys';
import { HTTPS_ONLY_TARGET } from '../../src/server/hooks/ssrf';
import { insertSignups } from '../../src/server/store/signups';
import { startServer } from '../../src/server/main';
import { snippetFor } from '../../src/sdk/snippet';
import { ORIGIN, post, signup, testCampaign } from './fixture';

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
    expect(text).toContain('backup [--dir DIR] [--keep DAYS]');
    expect(text).toContain('purge ');
    expect(text).toContain('hook add --site ID --url URL [--campaign WISEPOP_ID] [--event email] [--require-https off]');
    expect(text).toContain('hook delete --site ID HOOK_ID');
    expect(text).toContain('site snippet ID [--server URL]');
    expect(text).toContain('campaign import FILE --site ID [--replace]');
    expect(text).toContain('campaign delete --site ID CAMPAIGN_ID');
    expect(text).toContain('emails --site ID [--email EMAIL] [--campaign WISEPOP_ID]');
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
    expect(await cli('hook', 'list', '--site', site)).toEqual([`no hooks for site ${site}: npm run poplet -- --data ${dir} hook add --site ${site} --url https://...`]);
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

  it('refuses exactly what POST /api1/hooks refuses on a server requiring HTTPS, with the same reason; with --require-https off, what one not requiring it refuses', async () => {
    const site = await newSite('hooks-parity.example');
    const key = (await cli('site', 'rotate-key', site))[0]!.replace(/^api key:\s+/, '');
    const config = loadConfig({ POPLET_DATA: dir });
    const deps = { db: openDb(config.dbPath), config, secret: loadSecret(dir), log: silentLog };
    // The API as `serve` runs it with this data folder, and with HTTPS required (seen over TLS via a proxy).
    const plain = buildApp(deps);
    const secure = buildApp({ ...deps, config: { ...config, requireHttps: true, trustProxy: true } });
    try {
      const urls = ['http://127.0.0.1:8080/hook', 'http://169.254.169.254/latest/meta-data/', 'http://[::ffff:10.0.0.1]/x', 'http://93.184.216.34/in', 'https://10.0.0.1/x'];
      for (const [flags, body] of [
        // This shell's environment is loopback, no proxy ('auto' would say off): the CLI requires
        // HTTPS all the same, as the server it is meant for may.
        ...urls.map((url) => [['--url', url], { event: 'email', target_url: url }] as const),
        ...urls.map((url) => [['--url', url, '--require-https'], { event: 'email', target_url: url }] as const),
        // Turned off explicitly: what a server with POPLET_REQUIRE_HTTPS=off refuses (private targets).
        ...urls.filter((url) => url !== 'http://93.184.216.34/in').map((url) => [['--url', url, '--require-https', 'off'], { event: 'email', target_url: url }] as const),
        [['--url', 'ftp://93.184.216.34/in'], { event: 'email', target_url: 'ftp://93.184.216.34/in' }],
        [['--url', 'not a url'], { event: 'email', target_url: 'not a url' }],
        [['--url', PUBLIC, '--event', 'display'], { event: 'display', target_url: PUBLIC }],
        [['--url', PUBLIC, '--campaign', 'abc'], { event: 'email', target_url: PUBLIC, wisepop_id: 'abc' }],
        [['--url', PUBLIC, '--campaign', '-3'], { event: 'email', target_url: PUBLIC, wisepop_id: -3 }],
      ] as const) {
        const https = !(flags as readonly string[]).includes('off');
        const api = await (https ? secure : plain).inject({
          method: 'POST',
          url: '/api1/hooks',
          payload: body,
          headers: { authorization: `WISEPOPS-API key="${key}"`, ...(https ? { 'x-forwarded-proto': 'https' } : {}) },
        });
        expect(api.statusCode, flags.join(' ')).toBe(422);
        const { error } = api.json<{ error: string }>();
        // The API's "this server requires HTTPS" is what the CLI cannot know: it names the scheme alone.
        const reason = error.startsWith(HTTPS_ONLY_TARGET) ? 'target_url must use https.' : error;
        await expect(cli('hook', 'add', '--site', site, ...flags), flags.join(' ')).rejects.toThrow(`hook refused: ${reason}`);
      }
      expect(await hookIds(site)).toEqual([]);
      // What the API lets through with private hooks allowed, the CLI does with the same flag.
      expect(await cli('hook', 'add', '--site', site, '--url', 'https://127.0.0.1:8080/hook', '--allow-private-hooks')).toEqual([expect.stringMatching(/^hook id:\s+\d+$/)]);
      const [ok] = await cli('hook', 'add', '--site', site, '--url', 'http://127.0.0.1:8080/hook', '--allow-private-hooks', '--require-https', 'off');
      expect(ok).toMatch(/^hook id:\s+\d+$/);
    } finally {
      await plain.close();
      await secure.close();
      deps.db.close();
    }
  });

  it('refuses an http target unless --require-https off is given, whatever this shell would decide; then warns it is posted unencrypted', async () => {
    const site = await newSite('hooks-http.example');
    const http = 'http://93.184.216.34/in';
    // POPLET_REQUIRE_HTTPS unset, 127.0.0.1: a server started from this very shell would not require HTTPS.
    expect(loadConfig({ POPLET_DATA: dir }).requireHttps).toBe('auto');
    for (const flags of [[], ['--require-https'], ['--require-https', 'on'], ['--require-https', 'auto']]) {
      await expect(cli('hook', 'add', '--site', site, '--url', http, ...flags), flags.join(' ')).rejects.toThrow(
        /^hook refused: target_url must use https\. This command cannot tell whether your server requires HTTPS.*not on 127\.0\.0\.1.*add --require-https off$/,
      );
    }
    expect(await hookIds(site)).toEqual([]);
    const lines = await cli('hook', 'add', '--site', site, '--url', http, '--require-https', 'off');
    expect(lines[0]).toMatch(/^hook id:/);
    expect(lines[1]).toBe(`warning: ${http} is http: sign-ups will be posted unencrypted, and only a server that does not require HTTPS sends them (POPLET_REQUIRE_HTTPS=off, or the default on 127.0.0.1 without POPLET_TRUST_PROXY).`);
    expect(await cli('hook', 'add', '--site', site, '--url', PUBLIC)).toHaveLength(1);
  });
});


describe('poplet site add / site snippet', () => {
  it('the commands it prints carry the --data given, so that copied as printed they act on the same database', async () => {
    const lines = await cli('site', 'add', '--domain', 'data-flag.example');
    const id = lines[0]!.replace(/^site id:\s+/, '');
    const printed = lines.find((l) => l.includes(' site origins '))!.trim();
    expect(printed.startsWith(`npm run poplet -- --data ${dir} site origins ${id} `)).toBe(true);
    const argv = printed.replace(/^npm run poplet -- /, '').split(' ');
    const out: string[] = [];
    await run(argv, (l) => out.push(l));
    expect(out[0]).toContain('origins=https://data-flag.example,https://www.data-flag.example,http://localhost:3000');
  });

  const SNIPPET = (url: string) => `<script>${snippetFor(url)}</script>`;

  it('site add prints the origins, how to add one, and the snippet to paste (a placeholder for the server URL)', async () => {
    const lines = await cli('site', 'add', '--domain', 'snippet.example');
    const id = lines[0]!.replace(/^site id:\s+/, '');
    expect(lines[2]).toBe('origins:  https://snippet.example, https://www.snippet.example');
    expect(lines).toContain(`  npm run poplet -- --data ${dir} site origins ${id} https://snippet.example https://www.snippet.example http://localhost:3000`);
    expect(lines.join('\n')).toMatch(/a page elsewhere \(a local or staging\ncopy\) gets 403/);
    expect(lines).toContain(`(or print it filled in: npm run poplet -- --data ${dir} site snippet ${id} --server https://popups.example.com):`);
    expect(lines.at(-2)).toBe('<!-- Poplet: paste in <head> -->');
    expect(lines.at(-1)).toBe(SNIPPET(`https://YOUR-POPLET-SERVER/poplet.js?site=${id}`));
  });

  it('the snippet is the build\'s (dist/snippet.html) with the server URL and site id filled in', async () => {
    const lines = await cli('site', 'add', '--domain', 'built.example', '--server', 'https://popups.built.example/');
    const id = lines[0]!.replace(/^site id:\s+/, '');
    const built = readFileSync(join(import.meta.dirname, '../../dist/snippet.html'), 'utf8').trimEnd().split('\n');
    expect(lines.slice(-2)).toEqual(built.map((l) => l.replace('https://popups.example.com/poplet.js?site=YOUR_SITE_ID', `https://popups.built.example/poplet.js?site=${id}`)));
    expect(lines.join('\n')).not.toContain('YOUR-POPLET-SERVER');
  });

  it('site snippet prints the same for an existing site, a path prefix kept; refuses what is not a server URL', async () => {
    const id = (await cli('site', 'add', '--domain', 'later.example', '--origin', 'https://shop.later.example'))[0]!.replace(/^site id:\s+/, '');
    const lines = await cli('site', 'snippet', id, '--server', 'https://cdn.later.example/poplet/');
    expect(lines[0]).toBe('origins:  https://shop.later.example');
    expect(lines).toContain(`  npm run poplet -- --data ${dir} site origins ${id} https://shop.later.example http://localhost:3000`);
    expect(lines.at(-1)).toBe(SNIPPET(`https://cdn.later.example/poplet/poplet.js?site=${id}`));
    expect(await cli('site', 'snippet', '--site', id, '--server', 'https://cdn.later.example/poplet')).toEqual(lines);
    // A site that has localhost:3000 already is shown another origin to add, not that one twice.
    const dev = (await cli('site', 'add', '--domain', 'dev.example', '--origin', 'http://localhost:3000', '--origin', 'https://dev.example'))[0]!.replace(/^site id:\s+/, '');
    expect(await cli('site', 'snippet', dev)).toContain(`  npm run poplet -- --data ${dir} site origins ${dev} http://localhost:3000 https://dev.example http://localhost:8080`);
    // A plain-http server beyond loopback: an https page would not load it.
    expect((await cli('site', 'snippet', id, '--server', 'http://10.0.0.2:8787')).at(-1)).toMatch(/^note: http:\/\/10\.0\.0\.2:8787 is http: browsers block/);
    expect((await cli('site', 'snippet', id, '--server', 'http://127.0.0.1:8787')).at(-1)).toBe(SNIPPET(`http://127.0.0.1:8787/poplet.js?site=${id}`));
    await expect(cli('site', 'snippet', id, '--server', 'popups.example.com')).rejects.toThrow(/--server must be the URL/);
    await expect(cli('site', 'snippet', id, '--server', 'https://x.example/?a=1')).rejects.toThrow(/--server must be an http\(s\) URL/);
    await expect(cli('site', 'snippet', 'nope')).rejects.toThrow('unknown site nope');
    await expect(cli('site', 'snippet')).rejects.toThrow('missing site id');
  });
});

describe('poplet campaign import warnings, --replace, delete', () => {
  const newSite = async (domain: string) => (await cli('site', 'add', '--domain', domain))[0]!.replace(/^site id:\s+/, '');
  let files = 0;
  const file = (json: unknown) => {
    const path = join(dir, `campaigns-${++files}.json`);
    writeFileSync(path, JSON.stringify(json));
    return path;
  };
  const ids = async (site: string) => (await cli('campaign', 'list', '--site', site)).map((l) => Number(l.split(' ')[0]));

  it('warns (and still imports) about every unknown key with its path and the key meant', async () => {
    const site = await newSite('import-keys.example');
    const c = testCampaign(12, { name: 'Typos' }) as unknown as Record<string, unknown> & { content: Record<string, unknown> };
    c.frequncy = { repeat: { every: 'page' } };
    c.content.closeButton = 'none';
    c.content.style = { closebutton: 'icon' };
    expect(await cli('campaign', 'import', file([c, testCampaign(13)]), '--site', site)).toEqual([
      'imported campaign 12 "Typos" (live)',
      'imported campaign 13 "Campaign 13" (live)',
      'warning: campaign 12: unknown key content.closeButton (did you mean content.style.closeButton?)',
      'warning: campaign 12: unknown key content.style.closebutton (did you mean content.style.closeButton?)',
      'warning: campaign 12: unknown key frequncy (did you mean frequency?)',
      'Unknown keys are stored but nothing reads them (a newer Poplet may): fix the file and import it again.',
    ]);
    // Stored as written: a newer file's keys stay allowed.
    expect(await ids(site)).toEqual([12, 13]);
    const db = openDb(join(dir, 'poplet.db'));
    try {
      expect(JSON.parse(db.prepare('SELECT body FROM campaigns WHERE site_id = ? AND id = 12').pluck().get(site) as string)).toMatchObject({ frequncy: {} });
    } finally {
      db.close();
    }
    expect(await cli('campaign', 'import', file(testCampaign(12)), '--site', site)).toEqual(['imported campaign 12 "Campaign 12" (live)']);
  });

  it('warns about a live campaign whose schedule has ended, or that needs a country header this configuration lacks', async () => {
    const site = await newSite('import-static.example');
    const ended = testCampaign(20, { schedule: { end: '2025-04-20' } });
    const country = testCampaign(21, { targeting: { type: 'country', op: 'in', value: ['FR', 'BE'] } });
    const paused = testCampaign(22, { status: 'paused', schedule: { end: '2025-04-20' } });
    const lines = await cli('campaign', 'import', file([ended, country, paused]), '--site', site);
    expect(lines.filter((l) => l.startsWith('warning:'))).toEqual([
      'warning: campaign 20: schedule ended 2025-04-20: it will not show',
      expect.stringMatching(/^warning: campaign 21: targeting uses the visitor's country, but POPLET_COUNTRY_HEADER is not set here/),
    ]);
    const withHeader = await cli('campaign', 'import', file([country]), '--site', site, '--country-header', 'cf-ipcountry');
    expect(withHeader).toEqual(['imported campaign 21 "Campaign 21" (live)']);
  });

  it('--replace makes the site\'s campaigns exactly the file, all or nothing; without it nothing is deleted', async () => {
    const site = await newSite('import-replace.example');
    const other = await newSite('import-replace-other.example');
    await cli('campaign', 'import', file([testCampaign(1), testCampaign(2), testCampaign(3, { status: 'paused' })]), '--site', site);
    await cli('campaign', 'import', file([testCampaign(1)]), '--site', other);
    expect(await cli('campaign', 'import', file([testCampaign(2, { name: 'Two' })]), '--site', site)).toEqual(['imported campaign 2 "Two" (live)']);
    expect(await ids(site)).toEqual([1, 2, 3]);

    // A refused file changes nothing, --replace or not.
    const bad = file([testCampaign(4), { ...testCampaign(5), trigger: { type: 'nope' } }]);
    await expect(cli('campaign', 'import', bad, '--site', site, '--replace')).rejects.toThrow(/^campaign 5: trigger/);
    expect(await ids(site)).toEqual([1, 2, 3]);

    // --replace before FILE is a switch, not FILE's flag.
    expect(await cli('campaign', 'import', '--replace', file([testCampaign(2), testCampaign(4)]), '--site', site)).toEqual([
      'imported campaign 2 "Campaign 2" (live)',
      'imported campaign 4 "Campaign 4" (live)',
      'deleted campaign 1 "Campaign 1" (live): not in the file (its sign-ups and stats stay)',
      'deleted campaign 3 "Campaign 3" (paused): not in the file (its sign-ups and stats stay)',
    ]);
    expect(await ids(site)).toEqual([2, 4]);
    expect(await ids(other)).toEqual([1]);
  });

  it('campaign delete deletes one campaign of the site, says what stays, and names the hooks bound to it', async () => {
    const site = await newSite('delete.example');
    const other = await newSite('delete-other.example');
    await cli('campaign', 'import', file([testCampaign(7, { name: 'Spring' }), testCampaign(8)]), '--site', site);
    await cli('campaign', 'import', file([testCampaign(7)]), '--site', other);
    const [added] = await cli('hook', 'add', '--site', site, '--url', 'https://93.184.216.34/hook', '--campaign', '7');
    const hook = Number(/(\d+)$/.exec(added!)![1]);
    expect(await cli('campaign', 'delete', '--site', site, '7')).toEqual([
      'deleted campaign 7 "Spring" (live)',
      'Its sign-ups stay (GET /api1/emails, `emails`) and so do its stats (GET /api1/stats); importing it again brings it back.',
      'It has no display, close, click or goal counts, so late events from pages still showing it are dropped, and late sign-ups are stored but not counted in GET /api1/stats.',
      `hook ${hook} (https://93.184.216.34/hook) sends only this campaign's sign-ups and stays: npm run poplet -- --data ${dir} hook delete --site ${site} ${hook}`,
    ]);
    expect(await ids(site)).toEqual([8]);
    expect(await ids(other)).toEqual([7]);
    await expect(cli('campaign', 'delete', '--site', site, '7')).rejects.toThrow(`campaign 7 not found for site ${site}`);
    await expect(cli('campaign', 'delete', '--site', 'nope', '8')).rejects.toThrow('unknown site nope');
    await expect(cli('campaign', 'delete', '--site', site, 'x8')).rejects.toThrow('CAMPAIGN_ID must be a positive integer');
    await expect(cli('campaign', 'delete', '8')).rejects.toThrow('missing --site ID');
    expect(await ids(site)).toEqual([8]);
  });
});

describe('a deleted campaign is still "had": late events and sign-ups of pages still showing it count', () => {
  it('counts them for a campaign with /events counts, stores but does not count them for one without', async () => {
    const data = mkdtempSync(join(tmpdir(), 'poplet-cli-had-'));
    const at = (...argv: string[]) => {
      const lines: string[] = [];
      return run([...argv, '--data', data], (l) => lines.push(l)).then(() => lines);
    };
    const site = (await at('site', 'add', '--domain', 'had.example', '--origin', ORIGIN))[0]!.replace(/^site id:\s+/, '');
    const campaigns = join(data, 'c.json');
    writeFileSync(campaigns, JSON.stringify([testCampaign(50, { variants: [{ id: 'a', weight: 1 }] }), testCampaign(51)]));
    await at('campaign', 'import', campaigns, '--site', site);
    const start = () => startServer({ dataDir: data, host: '127.0.0.1', port: 0, logRequests: false }, silentLog);
    const events = (url: string, events: Array<Record<string, unknown>>) => post(`${url}/events`, { site, events });
    try {
      // Campaign 50 was displayed; 51 never was. Closing the server writes the counts it holds.
      let server = await start();
      expect((await events(server.url, [{ k: 'display', c: 50, g: 'a', t: Date.now() }])).status).toBe(204);
      await server.close();

      server = await start();
      expect((await at('campaign', 'delete', '--site', site, '50'))[2]).toMatch(/^Pages still showing it .* keep counting: its late events and sign-ups count/);
      expect((await at('campaign', 'delete', '--site', site, '51'))[2]).toMatch(/^It has no display, close, click or goal counts/);
      const now = Date.now();
      expect((await events(server.url, [50, 51].flatMap((c) => [{ k: 'display', c, g: 'a', t: now }, { k: 'goal', c, g: 'a', n: 'purchase', r: 5, t: now }]))).status).toBe(204);
      for (const c of [50, 51]) expect((await post(`${server.url}/collect`, signup(site, { wisepop_id: c, variant: 'a' }))).status).toBe(201);
      await server.close();

      const db = openDb(join(data, 'poplet.db'));
      try {
        const sum = (c: number) => db.prepare('SELECT SUM(displays) AS displays, SUM(goals) AS goals, SUM(signups) AS signups FROM events_daily WHERE site_id = ? AND wisepop_id = ?').get(site, c);
        expect(sum(50)).toEqual({ displays: 2, goals: 1, signups: 1 });
        expect(sum(51)).toEqual({ displays: null, goals: null, signups: null });
        // Both sign-ups are stored all the same, for the Email API and hooks.
        expect(db.prepare('SELECT wisepop_id FROM signups WHERE site_id = ? ORDER BY wisepop_id').pluck().all(site)).toEqual([50, 51]);
      } finally {
        db.close();
      }
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});

describe('poplet erase', () => {
  it('refuses a blank or overlong address, as DELETE /api1/emails does, before touching anything', async () => {
    const site = (await cli('site', 'add', '--domain', 'erase-cli.example'))[0]!.replace(/^site id:\s+/, '');
    for (const email of [' ', '\t', 'a'.repeat(321)]) {
      await expect(cli('erase', '--site', site, email)).rejects.toThrow(/EMAIL must be the address to erase/);
    }
  });

  it('erases for an unknown site (a deleted one\'s journal) but warns that no such site is stored', async () => {
    const site = (await cli('site', 'add', '--domain', 'erase-known.example'))[0]!.replace(/^site id:\s+/, '');
    const known = await cli('erase', '--site', site, 'nobody@example.net');
    expect(known[0]).toMatch(/^erased 0 sign-up\(s\)/);
    expect(known.filter((l) => l.startsWith('warning:'))).toEqual([]);
    const typo = await cli('erase', '--site', site + 'x', 'nobody@example.net');
    expect(typo[0]).toMatch(/^erased 0 sign-up\(s\)/);
    expect(typo.filter((l) => l.startsWith('warning:'))).toEqual([expect.stringContaining(`no site ${site}x in this database (a mistyped id?`)]);
  });
});

describe('poplet emails', () => {
  it('prints a site\'s sign-ups as GET /api1/emails rows, consent included, by address (any case) or campaign', async () => {
    const site = (await cli('site', 'add', '--domain', 'emails.example'))[0]!.replace(/^site id:\s+/, '');
    const db = openDb(join(dir, 'poplet.db'));
    try {
      const row = (client_id: string, email: string, wisepop_id: number, consent: string | null) => ({
        site_id: site, client_id, email, wisepop_id, ip: '203.0.113.9', country_code: null, other_fields: { City: 'Lyon' }, consent, variant: null,
      });
      insertSignups(db, [row('emails-cli-1', 'Ada@Example.com', 1, 'I agree to the newsletter'), row('emails-cli-2', 'bob@example.com', 2, null)]);
    } finally {
      db.close();
    }
    const all = (await cli('emails', '--site', site)).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(all).toEqual([
      { collected_at: expect.any(String), email: 'Ada@Example.com', wisepop_id: 1, ip: '203.0.113.9', country_code: null, other_fields: { City: 'Lyon' }, consent: 'I agree to the newsletter' },
      expect.objectContaining({ email: 'bob@example.com', consent: null }),
    ]);
    expect((await cli('emails', '--site', site, '--email', ' ada@EXAMPLE.com ')).map((l) => JSON.parse(l).email)).toEqual(['Ada@Example.com']);
    expect((await cli('emails', '--site', site, '--campaign', '2')).map((l) => JSON.parse(l).email)).toEqual(['bob@example.com']);
    expect(await cli('emails', '--site', site, '--email', 'nobody@example.com')).toEqual([]);
    await expect(cli('emails', '--site', 'nope')).rejects.toThrow('unknown site nope');
    await expect(cli('emails', '--site', site, '--campaign', 'x')).rejects.toThrow('--campaign must be a positive integer');
  });
});

describe('poplet flags that take a value', () => {
  it.each([
    [['emails', '--site', 'any', '--email'], '--email'],
    [['emails', '--site', 'any', '--email', '--campaign', '2'], '--email'],
    [['emails', '--site', 'any', '--email='], '--email'],
    [['emails', '--site'], '--site'],
    [['emails', '--site', 'any', '--campaign'], '--campaign'],
    [['site', 'add', '--domain'], '--domain'],
    [['site', 'add', '--domain', 'flags.example', '--origin'], '--origin'],
    [['site', 'add', '--domain', 'flags.example', '--timezone'], '--timezone'],
    [['site', 'add', '--domain', 'flags.example', '--server'], '--server'],
    [['site', 'snippet', 'any', '--server'], '--server'],
    [['campaign', 'list', '--site'], '--site'],
    [['hook', 'add', '--site', 'any', '--url'], '--url'],
    [['hook', 'add', '--site', 'any', '--url', 'https://93.184.216.34/x', '--event'], '--event'],
    // --keep 0 stops a backup that got through before it writes.
    [['backup', '--dir', '--keep', '0'], '--dir'],
    [['backup', '--keep'], '--keep'],
    [['erase', 'a@b.example', '--site'], '--site'],
    // The server's settings, which every command reads; `site snippet` with no id stops before
    // using them (no server started, no file made) if the flag got through.
    [['site', 'snippet', '--port'], '--port'],
    [['site', 'snippet', '--host'], '--host'],
    [['site', 'snippet', '--trust-proxy'], '--trust-proxy'],
    [['site', 'snippet', '--country-header'], '--country-header'],
    [['site', 'snippet', '--synchronous'], '--synchronous'],
    [['site', 'snippet', '--log'], '--log'],
    [['site', 'snippet', '--db'], '--db'],
  ])('%j is refused: %s needs a value', async (argv, flag) => {
    await expect(cli(...argv)).rejects.toThrow(`${flag} needs a value: ${flag} `);
  });

  it('--data given bare is refused too, before any folder is used', async () => {
    await expect(run(['site', 'snippet', '--data'], () => undefined)).rejects.toThrow('--data needs a value: --data DATA');
  });

  it('the switches stay switches: --replace, --allow-private-hooks, --require-https (on)', async () => {
    const site = (await cli('site', 'add', '--domain', 'switches.example'))[0]!.replace(/^site id:\s+/, '');
    expect(await cli('hook', 'add', '--allow-private-hooks', '--site', site, '--require-https', '--url', 'https://127.0.0.1:9/x')).toEqual([expect.stringMatching(/^hook id:/)]);
    const path = join(dir, 'switches.json');
    writeFileSync(path, JSON.stringify(testCampaign(5)));
    expect(await cli('campaign', 'import', '--replace', path, '--site', site)).toEqual(['imported campaign 5 "Campaign 5" (live)']);
  });
});
