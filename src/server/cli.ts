// `npm run poplet -- <command>`: run the server and manage sites, keys, origins and campaigns
// without touching SQL; plus the data lifecycle commands (backup, restore, replay, erase, purge).
import { readFileSync } from 'node:fs';
import { isLoopbackHost, loadConfig, parseFlags, type ServerConfig } from './config';
import { serve } from './main';
import { openDb, type Db } from './store/db';
import { loadSecret } from './store/keys';
import { addSite, getSite, listSites, rotateKey, setOrigins, setTimezone, touchSite, type Site } from './store/sites';
import { deleteCampaign, importCampaignSet, listCampaigns } from './store/campaigns';
import { countedGroups } from './store/events';
import { listEmails } from './store/signups';
import { campaignWarnings } from './campaign-lint';
import { snippetFor } from '../sdk/snippet';
import type { Campaign } from '../shared/campaign';
import { backup, restore } from './lifecycle/backup';
import { replay } from './lifecycle/replay';
import { eraseEmail, type ErasureResult } from './lifecycle/erase';
import { pendingPurge, purgeAlone } from './lifecycle/purge';
import { createHook, deleteHook, hookRules, HookInputError, listHooks, parseId, retryHook, type HookView } from './hooks/manage';
import { HTTPS_ONLY_TARGET } from './hooks/ssrf';

const USAGE = `poplet <command>

  help                                           this text
  serve [--port N] [--host H] [--data DIR]       run the collection server
  site add --domain D [--origin URL ...] [--timezone TZ] [--server URL]
                                                 create a site; prints its id, API key (once),
                                                 allowed origins and the snippet to paste
  site snippet ID [--server URL]                 the snippet to paste, filled with the site id
  site list                                      list sites
  site rotate-key ID                             new API key; the old one stops working
  site origins ID URL [URL ...]                  set the origins allowed to post sign-ups
  site timezone ID TZ                            IANA time zone for schedules and daily stats
  campaign import FILE --site ID [--replace]     import a JSON campaign or array (all or nothing);
                                                 --replace deletes the site's campaigns the file lacks
  campaign list --site ID                        list a site's campaigns
  campaign delete --site ID CAMPAIGN_ID          delete a campaign (its sign-ups and stats stay)
  hook add --site ID --url URL [--campaign WISEPOP_ID] [--event email] [--require-https off]
                                                 create a hook (the checks of POST /api1/hooks); prints its id;
                                                 an http URL needs --require-https off
  hook list --site ID                            a site's hooks and the state of their deliveries
  hook delete --site ID HOOK_ID                  delete a hook and its pending deliveries
  hook retry --site ID HOOK_ID                   send a hook's failed deliveries again
  backup [--dir DIR] [--keep DAYS]               online backup of the database; deletes the
                                                 folder's backups DAYS old (default 7)
  restore FILE                                   replace the database with a backup (server stopped)
  replay JOURNAL                                 re-insert sign-ups from a journal file or folder
  erase --site ID EMAIL                          delete every sign-up of an address; the database
                                                 file is purged of them by the server (POPLET_PURGE_WITHIN)
  purge                                          purge the database file of deleted data now: here
                                                 if no server runs, else by the running server
  emails --site ID [--email EMAIL] [--campaign WISEPOP_ID]
                                                 a site's sign-ups, consent included: one JSON row
                                                 a line, as GET /api1/emails, oldest first

Environment: POPLET_DATA (default ./.data), POPLET_DB, POPLET_PORT, POPLET_HOST, ... (see README)`;

/** Words that are not flags nor flag values. */
function positionals(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      if (!a.includes('=') && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) i++;
    } else out.push(a);
  }
  return out;
}

/** Every value of a repeatable flag: `--origin a --origin b`. */
function repeated(argv: string[], name: string): string[] {
  const out: string[] = [];
  argv.forEach((a, i) => {
    if (a === `--${name}` && argv[i + 1] && !argv[i + 1]!.startsWith('--')) out.push(argv[i + 1]!);
    else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  });
  return out;
}

/**
 * Flags that take a value. parseFlags reads one given bare (`--email` last, or before another
 * flag) as "true", which would then be used as the value: an address "true", a site "true".
 * The switches (--replace, --allow-private-hooks, --help, and --require-https, bare for "on")
 * are not listed.
 */
const VALUE_FLAGS = [
  'site', 'domain', 'origin', 'timezone', 'server', 'url', 'campaign', 'event', 'email', 'dir', 'keep',
  'port', 'host', 'data', 'db', 'country-header', 'trust-proxy', 'synchronous', 'log',
];

/** Refuses a value flag given bare or empty (`--email`, `--email=`), naming it. */
function checkFlagValues(argv: string[]): void {
  argv.forEach((a, i) => {
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? a.slice(2, eq > 0 ? eq : undefined) : '';
    if (!VALUE_FLAGS.includes(name)) return;
    const value = eq > 0 ? a.slice(eq + 1) : argv[i + 1];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
      throw new UsageError(`--${name} needs a value: --${name} ${name.toUpperCase().replace(/-/g, '_')}`);
    }
  });
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  return value;
}

class UsageError extends Error {}

/**
 * `--replace` → `--replace=true`: a switch, so neither parseFlags nor positionals takes the word
 * after it (`campaign import --replace FILE`) as its value.
 */
const withSwitches = (argv: string[]): string[] => argv.map((a) => (a === '--replace' ? '--replace=true' : a));

/**
 * The command a printed hint should start with: `npm run poplet --`, plus the `--data`/`--db` this
 * command was given, so that a hint copied as printed acts on the same database (without them it
 * would open ./.data and answer "unknown site").
 */
function popletCommand(flags: Record<string, string>): string {
  const quote = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  return ['npm run poplet --', ...(['data', 'db'] as const).filter((f) => flags[f] !== undefined).map((f) => `--${f} ${quote(flags[f]!)}`)].join(' ');
}

/** What `site add` and `site snippet` print when no --server is given. */
const SERVER_PLACEHOLDER = 'https://YOUR-POPLET-SERVER';

/** The public base URL of the collection server (`--server`), as the script URL's prefix. */
function serverUrl(raw: string | undefined): string {
  if (raw === undefined) return SERVER_PLACEHOLDER;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--server must be the URL your pages reach the server at, e.g. https://popups.example.com, got "${raw}"`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username) {
    throw new UsageError(`--server must be an http(s) URL without query or credentials, e.g. https://popups.example.com, got "${raw}"`);
  }
  return (url.origin + url.pathname).replace(/\/+$/, '');
}

/**
 * The install lines for a site: its allowed origins and how to add one, then the snippet, built by
 * the function the build uses for dist/snippet.html (src/sdk/snippet.ts).
 */
function installHelp(site: Site, server: string, poplet: string): string[] {
  // The example adds an origin the site does not have yet: listing one twice would show nothing new.
  const example = ['http://localhost:3000', 'http://localhost:8080'].filter((o) => !site.origins.includes(o)).slice(0, 1);
  const lines = [
    'Sign-ups and events are accepted only from pages on the origins above: a page elsewhere (a local or staging',
    'copy) gets 403 "origin: not allowed for this site". To add one, list them all again with it:',
    `  ${poplet} site origins ${site.id} ${[...site.origins, ...example].join(' ')}`,
    '',
    server === SERVER_PLACEHOLDER
      ? `Paste in the <head> of every page, with ${SERVER_PLACEHOLDER} replaced by the URL your pages reach the server at`
      : 'Paste in the <head> of every page:',
    ...(server === SERVER_PLACEHOLDER ? [`(or print it filled in: ${poplet} site snippet ${site.id} --server https://popups.example.com):`] : []),
    '<!-- Poplet: paste in <head> -->',
    `<script>${snippetFor(`${server}/poplet.js?site=${encodeURIComponent(site.id)}`)}</script>`,
  ];
  const url = server === SERVER_PLACEHOLDER ? null : new URL(server);
  if (url?.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    lines.push(`note: ${server} is http: browsers block an http script on an https page (mixed content); use the server's https URL.`);
  }
  return lines;
}

const describe = (s: Site) =>
  `${s.id}  ${s.domain}  tz=${s.timezone}  origins=${s.origins.join(',') || '(none)'}  created=${s.created_at}` +
  (s.last_active_at ? `  last active=${s.last_active_at}` : '');

/**
 * What `campaign delete` tells: what stays, and whether the late events and sign-ups of pages
 * still showing it (open pages, campaigns.json cached for minutes, goals credited for 30 days
 * after a display) still count: only for a campaign with /events counts (routes/context.ts,
 * countGroup).
 */
function deletedHelp(site: string, c: Campaign, counted: boolean, hooks: HookView[], poplet: string): string[] {
  return [
    `deleted campaign ${c.id} "${c.name}" (${c.status})`,
    'Its sign-ups stay (GET /api1/emails, `emails`) and so do its stats (GET /api1/stats); importing it again brings it back.',
    counted
      ? 'Pages still showing it (open, or with campaigns.json cached) keep counting: its late events and sign-ups count in its stats while they hold counts of it (POPLET_RETENTION_DAYS).'
      : 'It has no display, close, click or goal counts, so late events from pages still showing it are dropped, and late sign-ups are stored but not counted in GET /api1/stats.',
    ...hooks.map((h) => `hook ${h.id} (${h.target_url}) sends only this campaign's sign-ups and stays: ${poplet} hook delete --site ${site} ${h.id}`),
  ];
}

const describeHook = (h: HookView) =>
  `${h.id}  ${h.event}  ${h.target_url}  campaign=${h.wisepop_id ?? 'all'}  status=${h.status}  ` +
  `pending=${h.pending} failed=${h.failed} sent=${h.sent}  created=${h.created_at}` +
  (h.last_error ? `  last error=${h.last_error} (${h.last_error_at})` : '') +
  (h.max_payload_bytes ? `  max payload=${h.max_payload_bytes} B (after a 413, until ${h.max_payload_until})` : '');

/** The site named by --site, which must exist; stamped active as an API call would stamp it. */
function hookSite(db: Db, flags: Record<string, string>): string {
  const id = need(flags.site, '--site ID');
  if (!getSite(db, id)) throw new Error(`unknown site ${id}`);
  touchSite(db, id);
  return id;
}

function hookIdArg(args: string[]): number {
  const id = parseId(need(args[0], 'HOOK_ID'));
  if (id === null) throw new UsageError('HOOK_ID must be a positive integer');
  return id;
}

function withDb<T>(config: ServerConfig, fn: (db: Db) => T): T {
  const db = openDb(config.dbPath);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export async function run(argv: string[], out: (line: string) => void = console.log): Promise<void> {
  argv = withSwitches(argv);
  checkFlagValues(argv);
  const [command, sub] = positionals(argv);
  const flags = parseFlags(argv);
  const config = loadConfig(process.env, argv);
  const args = positionals(argv).slice(2);
  const poplet = popletCommand(flags);

  if (command === 'help' || command === '-h' || flags.help) {
    out(USAGE);
    return;
  }
  switch (`${command ?? ''} ${command === 'site' || command === 'campaign' || command === 'hook' ? sub ?? '' : ''}`.trim()) {
    case 'serve':
      return serve(config);
    case 'site add': {
      const origins = repeated(argv, 'origin');
      const { site, key } = withDb(config, (db) =>
        addSite(db, loadSecret(config.dataDir), { domain: need(flags.domain, '--domain'), origins, timezone: flags.timezone }),
      );
      out(`site id:  ${site.id}`);
      out(`api key:  ${key}`);
      out(`origins:  ${site.origins.join(', ')}`);
      out('Store the API key now: it is not shown again (rotate it with `site rotate-key`).');
      out('');
      for (const line of installHelp(site, serverUrl(flags.server), poplet)) out(line);
      return;
    }
    case 'site snippet': {
      const id = need(args[0] ?? flags.site, 'site id');
      const server = serverUrl(flags.server);
      const site = withDb(config, (db) => getSite(db, id));
      if (!site) throw new Error(`unknown site ${id}`);
      out(`origins:  ${site.origins.join(', ') || '(none)'}`);
      for (const line of installHelp(site, server, poplet)) out(line);
      return;
    }
    case 'site list':
      withDb(config, (db) => {
        const sites = listSites(db);
        if (!sites.length) out(`no sites yet: ${poplet} site add --domain example.com`);
        for (const s of sites) out(describe(s));
      });
      return;
    case 'site rotate-key': {
      const id = need(sub === 'rotate-key' ? args[0] : undefined, 'site id');
      const key = withDb(config, (db) => rotateKey(db, loadSecret(config.dataDir), id));
      out(`api key:  ${key}`);
      out('The previous key no longer works. Update your integrations; hook signatures use the new key.');
      return;
    }
    case 'site origins': {
      const [id, ...urls] = args;
      if (!urls.length) throw new UsageError('site origins ID URL [URL ...]');
      out(describe(withDb(config, (db) => setOrigins(db, need(id, 'site id'), urls))));
      return;
    }
    case 'site timezone': {
      const [id, tz] = args;
      out(describe(withDb(config, (db) => setTimezone(db, need(id, 'site id'), need(tz, 'time zone')))));
      return;
    }
    case 'campaign import': {
      const file = need(args[0], 'FILE');
      const site = need(flags.site, '--site ID');
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new Error(`${file}: ${(e as Error).message}`);
      }
      const replace = flags.replace === 'true';
      const { result, timezone } = withDb(config, (db) => {
        const result = importCampaignSet(db, site, json, { replace });
        return { result, timezone: getSite(db, site)!.timezone };
      });
      for (const c of result.campaigns) out(`imported campaign ${c.id} "${c.name}" (${c.status})`);
      for (const c of result.removed) out(`deleted campaign ${c.id} "${c.name}" (${c.status}): not in the file (its sign-ups and stats stay)`);
      // Never a refusal: the campaigns are stored as they are (a newer file's keys stay allowed).
      const warnings = result.campaigns.flatMap((c) => campaignWarnings(c, { timezone, countryHeader: config.countryHeader }));
      for (const w of warnings) out(`warning: ${w}`);
      if (warnings.some((w) => w.includes(': unknown key '))) {
        out('Unknown keys are stored but nothing reads them (a newer Poplet may): fix the file and import it again.');
      }
      return;
    }
    case 'campaign delete': {
      const site = need(flags.site, '--site ID');
      const id = Number(need(args[0], 'CAMPAIGN_ID'));
      if (!Number.isSafeInteger(id) || id < 1) throw new UsageError('CAMPAIGN_ID must be a positive integer');
      const { campaign, counted, hooks } = withDb(config, (db) => {
        if (!getSite(db, site)) throw new Error(`unknown site ${site}`);
        const campaign = deleteCampaign(db, site, id);
        if (!campaign) throw new Error(`campaign ${id} not found for site ${site}`);
        touchSite(db, site);
        return { campaign, counted: countedGroups(db, site, id).size > 0, hooks: listHooks(db, site).filter((h) => h.wisepop_id === id) };
      });
      for (const line of deletedHelp(site, campaign, counted, hooks, poplet)) out(line);
      return;
    }
    case 'campaign list':
      withDb(config, (db) => {
        for (const c of listCampaigns(db, need(flags.site, '--site ID'))) out(`${c.id}  ${c.status}  ${c.layout.type}  ${c.name}`);
      });
      return;
    case 'hook add': {
      const url = need(flags.url, '--url URL');
      const db = openDb(config.dbPath);
      let hook: { id: number; created: boolean };
      // The very function POST /api1/hooks calls, with this configuration's rules but one: HTTPS
      // is required unless turned off explicitly (--require-https off, or POPLET_REQUIRE_HTTPS=off
      // here). 'auto' decides from the listen address, which is the server's, not this shell's
      // (127.0.0.1 by default): read here it would accept http targets that a server on 0.0.0.0
      // then never delivers to.
      const rules = { ...hookRules(config), httpsOnly: config.requireHttps !== false };
      try {
        const site = hookSite(db, flags);
        hook = await createHook(db, site, { event: flags.event ?? 'email', target_url: url, wisepop_id: flags.campaign }, rules);
      } catch (e) {
        if (e instanceof HookInputError && e.message.startsWith(HTTPS_ONLY_TARGET)) {
          throw new Error(
            // Not e.message: it says the server requires HTTPS, which is what this command cannot tell.
            'hook refused: target_url must use https. This command cannot tell whether your server requires HTTPS (by default it ' +
              'does when it listens beyond loopback or behind a trusted proxy, not on 127.0.0.1), so it refuses http targets unless ' +
              'told: if the server does not (POPLET_REQUIRE_HTTPS=off, or the default on loopback), add --require-https off',
          );
        }
        if (e instanceof HookInputError) throw new Error(`hook refused: ${e.message}`);
        throw e;
      } finally {
        db.close();
      }
      out(`hook id:  ${hook.id}${hook.created ? '' : ' (this hook already existed)'}`);
      if (new URL(url).protocol === 'http:') {
        out(`warning: ${url} is http: sign-ups will be posted unencrypted, and only a server that does not require HTTPS sends them (POPLET_REQUIRE_HTTPS=off, or the default on 127.0.0.1 without POPLET_TRUST_PROXY).`);
      }
      return;
    }
    case 'hook list':
      withDb(config, (db) => {
        const site = hookSite(db, flags);
        const hooks = listHooks(db, site);
        if (!hooks.length) out(`no hooks for site ${site}: ${poplet} hook add --site ${site} --url https://...`);
        for (const h of hooks) out(describeHook(h));
      });
      return;
    case 'hook delete': {
      const id = hookIdArg(args);
      withDb(config, (db) => {
        const site = hookSite(db, flags);
        if (!deleteHook(db, site, id)) throw new Error(`hook ${id} not found for site ${site}`);
      });
      out(`deleted hook ${id} and its pending deliveries`);
      return;
    }
    case 'hook retry': {
      const id = hookIdArg(args);
      const requeued = withDb(config, (db) => retryHook(db, hookSite(db, flags), id));
      if (requeued === null) throw new Error(`hook ${id} not found for site ${flags.site}`);
      out(`requeued ${requeued} failed deliver${requeued === 1 ? 'y' : 'ies'} of hook ${id}`);
      return;
    }
    case 'backup': {
      const file = await (async () => {
        const db = openDb(config.dbPath);
        try {
          return await backup({ db }, flags.dir ?? config.backupDir, flags.keep ? Number(flags.keep) : config.backupKeep);
        } finally {
          db.close();
        }
      })();
      out(`backup written: ${file}`);
      return;
    }
    case 'restore':
      restore(need(sub, 'FILE'), config.dbPath);
      out(`restored ${sub} into ${config.dbPath}; replay the journal written since (${poplet} replay ${config.journalDir})`);
      out(`the database it replaced is kept as ${config.dbPath}.before-restore for ${config.backupKeep} days (POPLET_BACKUP_KEEP), then deleted by the retention job`);
      return;
    case 'replay': {
      const withinMs = config.purgeWithinMinutes * 60_000;
      const { r, due } = withDb(config, (db) => {
        const r = replay({ db }, need(sub, 'journal file or folder'), { purgeWithinMs: withinMs });
        return { r, due: pendingPurge(db, withinMs)?.dueAt };
      });
      out(`inserted ${r.inserted}, already present ${r.duplicates}, erased ${r.erased}, skipped ${r.skipped}`);
      if (r.erased > 0 && due !== undefined) out(purgeDueLine(due));
      return;
    }
    case 'emails': {
      const site = need(flags.site, '--site ID');
      let wisepopId: number | undefined;
      if (flags.campaign !== undefined) {
        wisepopId = Number(flags.campaign);
        if (!Number.isSafeInteger(wisepopId) || wisepopId < 1) throw new UsageError('--campaign must be a positive integer');
      }
      withDb(config, (db) => {
        if (!getSite(db, site)) throw new Error(`unknown site ${site}`);
        touchSite(db, site);
        // By collected_at, as an API client pages: bounded memory on any number of rows.
        for (let afterMs: number | undefined, rows; (rows = listEmails(db, site, { afterMs, wisepopId, email: flags.email, limit: 1000, offset: 0 })).length; ) {
          for (const row of rows) out(JSON.stringify(row));
          afterMs = Date.parse(rows[rows.length - 1]!.collected_at);
        }
      });
      return;
    }
    case 'erase': {
      const email = need(sub, 'EMAIL');
      const site = need(flags.site, '--site ID');
      // As DELETE /api1/emails refuses it (422): a blank "address" would erase nothing and say so.
      if (!email.trim() || email.length > 320) throw new UsageError('EMAIL must be the address to erase (1 to 320 characters, not blank)');
      const db = openDb(config.dbPath);
      let r: ErasureResult;
      let known: boolean;
      try {
        known = !!getSite(db, site);
        // A server's VACUUM holds the write lock for seconds per million sign-ups: wait for it.
        db.pragma('busy_timeout = 120000');
        r = await eraseEmail(db, site, email, config.journalDir, config.purgeWithinMinutes * 60_000);
      } finally {
        db.close();
      }
      out(`erased ${r.signups} sign-up(s), ${r.deliveries} hook delivery record(s), ${r.journalLines} journal line(s)`);
      // Still done: a site the retention job deleted (two years inactive) may have sign-ups left in the
      // journal, and its erasure record keeps a restored backup from bringing them back.
      if (!known) out(`warning: no site ${site} in this database (a mistyped id? \`${poplet} site list\` shows them): nothing of it is stored here; its journal lines, if any, were erased all the same`);
      out(purgeDueLine(r.purgeDueAt));
      return;
    }
    case 'purge': {
      // Migrations first (purge_due), on a connection closed before the exclusive attempt.
      withDb(config, () => undefined);
      const r = await purgeAlone(config.dbPath, { onWait: out });
      out(r.by === 'here' ? `database file purged (${r.ms} ms)` : `database file purged by the running server (waited ${r.ms} ms)`);
      return;
    }
    default:
      throw new UsageError(command ? `unknown command: ${[command, sub].filter(Boolean).join(' ')}` : 'no command');
  }
}

/** What `erase` and `replay` say about the purge they leave to the server. */
function purgeDueLine(dueAt: number): string {
  return `the database file is purged of them by ${new Date(dueAt).toISOString()}, by the running server (or at its next start); \`poplet purge\` does it now`;
}

// Run only as the entry point (tests import `run`).
if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof UsageError ? `${e.message}\n\n${USAGE}` : `error: ${(e as Error).message}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  });
}
