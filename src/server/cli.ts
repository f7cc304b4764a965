// `npm run poplet -- <command>`: run the server and manage sites, keys, origins and campaigns
// without touching SQL; plus the data lifecycle commands (backup, restore, replay, erase).
import { readFileSync } from 'node:fs';
import { loadConfig, parseFlags, type ServerConfig } from './config';
import { serve } from './main';
import { openDb, type Db } from './store/db';
import { loadSecret } from './store/keys';
import { addSite, getSite, listSites, rotateKey, setOrigins, setTimezone, touchSite, type Site } from './store/sites';
import { importCampaigns, listCampaigns } from './store/campaigns';
import { backup, restore } from './lifecycle/backup';
import { replay } from './lifecycle/replay';
import { eraseEmail, type ErasureResult } from './lifecycle/erase';
import { createHook, deleteHook, hookRules, HookInputError, listHooks, parseId, retryHook, type HookView } from './hooks/manage';

const USAGE = `poplet <command>

  help                                           this text
  serve [--port N] [--host H] [--data DIR]       run the collection server
  site add --domain D [--origin URL ...] [--timezone TZ]
                                                 create a site; prints its id and API key (once)
  site list                                      list sites
  site rotate-key ID                             new API key; the old one stops working
  site origins ID URL [URL ...]                  set the origins allowed to post sign-ups
  site timezone ID TZ                            IANA time zone for schedules and daily stats
  campaign import FILE --site ID                 import a JSON campaign or array (all or nothing)
  campaign list --site ID                        list a site's campaigns
  hook add --site ID --url URL [--campaign WISEPOP_ID] [--event email]
                                                 create a hook (the checks of POST /api1/hooks); prints its id
  hook list --site ID                            a site's hooks and the state of their deliveries
  hook delete --site ID HOOK_ID                  delete a hook and its pending deliveries
  hook retry --site ID HOOK_ID                   send a hook's failed deliveries again
  backup [--dir DIR] [--keep N]                  online backup of the database
  restore FILE                                   replace the database with a backup (server stopped)
  replay JOURNAL                                 re-insert sign-ups from a journal file or folder
  erase --site ID EMAIL                          delete every sign-up of an address

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

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  return value;
}

class UsageError extends Error {}

const describe = (s: Site) =>
  `${s.id}  ${s.domain}  tz=${s.timezone}  origins=${s.origins.join(',') || '(none)'}  created=${s.created_at}` +
  (s.last_active_at ? `  last active=${s.last_active_at}` : '');

const describeHook = (h: HookView) =>
  `${h.id}  ${h.event}  ${h.target_url}  campaign=${h.wisepop_id ?? 'all'}  status=${h.status}  ` +
  `pending=${h.pending} failed=${h.failed} sent=${h.sent}  created=${h.created_at}` +
  (h.last_error ? `  last error=${h.last_error} (${h.last_error_at})` : '');

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
  const [command, sub] = positionals(argv);
  const flags = parseFlags(argv);
  const config = loadConfig(process.env, argv);
  const args = positionals(argv).slice(2);

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
      return;
    }
    case 'site list':
      withDb(config, (db) => {
        const sites = listSites(db);
        if (!sites.length) out('no sites yet: poplet site add --domain example.com');
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
      const imported = withDb(config, (db) => importCampaigns(db, site, json));
      for (const c of imported) out(`imported campaign ${c.id} "${c.name}" (${c.status})`);
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
      try {
        const site = hookSite(db, flags);
        // The very function POST /api1/hooks calls, with this configuration's rules.
        hook = await createHook(db, site, { event: flags.event ?? 'email', target_url: url, wisepop_id: flags.campaign }, hookRules(config));
      } catch (e) {
        if (e instanceof HookInputError) throw new Error(`hook refused: ${e.message}`);
        throw e;
      } finally {
        db.close();
      }
      out(`hook id:  ${hook.id}${hook.created ? '' : ' (this hook already existed)'}`);
      // This command may run with another environment than the server (which decides 'auto'
      // from its own listen address): say what an http target means there.
      if (new URL(url).protocol === 'http:') {
        out(`warning: ${url} is http: sign-ups will be posted unencrypted, and a server that requires HTTPS ` +
          '(POPLET_REQUIRE_HTTPS, on by default when it listens beyond loopback) will not send them.');
      }
      return;
    }
    case 'hook list':
      withDb(config, (db) => {
        const site = hookSite(db, flags);
        const hooks = listHooks(db, site);
        if (!hooks.length) out(`no hooks for site ${site}: poplet hook add --site ${site} --url https://...`);
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
      out(`restored ${sub} into ${config.dbPath}; replay the journal written since (poplet replay ${config.journalDir})`);
      return;
    case 'replay': {
      const r = withDb(config, (db) => replay({ db }, need(sub, 'journal file or folder')));
      out(`inserted ${r.inserted}, already present ${r.duplicates}, erased ${r.erased}, skipped ${r.skipped}`);
      return;
    }
    case 'erase': {
      const email = need(sub, 'EMAIL');
      const site = need(flags.site, '--site ID');
      const db = openDb(config.dbPath);
      let r: ErasureResult;
      try {
        r = await eraseEmail(db, site, email, config.journalDir);
      } finally {
        db.close();
      }
      out(`erased ${r.signups} sign-up(s), ${r.deliveries} hook delivery record(s), ${r.journalLines} journal line(s)`);
      return;
    }
    default:
      throw new UsageError(command ? `unknown command: ${[command, sub].filter(Boolean).join(' ')}` : 'no command');
  }
}

// Run only as the entry point (tests import `run`).
if (import.meta.url === `file://${process.argv[1]}`) {
  run(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof UsageError ? `${e.message}\n\n${USAGE}` : `error: ${(e as Error).message}`);
    process.exit(e instanceof UsageError ? 2 : 1);
  });
}
