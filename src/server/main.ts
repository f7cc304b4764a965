// Starts the collection server: database, HTTP app, hook worker, retention, purge and backup
// jobs; and stops them in the right order.
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildApp } from './app';
import { loadConfig, type ServerConfig, type ServerDeps } from './config';
import { createLog, type Log } from './log';
import { openDbWaiting } from './store/db';
import { loadSecret } from './store/keys';
import { startHookWorker } from './hooks/worker';
import { startRetentionJob } from './lifecycle/retention';
import { startBackupJob } from './lifecycle/backup';
import { startPurgeJob } from './lifecycle/purge';
import { liveCampaigns } from './store/campaigns';
import { listSites } from './store/sites';

export interface RunningServer {
  url: string;
  deps: ServerDeps;
  /** Stops accepting, finishes in-flight requests, stops the workers, closes the database. */
  close(): Promise<void>;
}

/** Defaults from the environment, overridden by `partial`; paths follow a given dataDir. */
export function resolveConfig(partial: Partial<ServerConfig> = {}): ServerConfig {
  const env = { ...process.env };
  if (partial.dataDir) env.POPLET_DATA = partial.dataDir;
  const base = loadConfig(env);
  if (partial.dataDir && !process.env.POPLET_DB) base.dbPath = join(partial.dataDir, 'poplet.db');
  if (partial.dataDir && !process.env.POPLET_JOURNAL && partial.journalDir === undefined) base.journalDir = join(partial.dataDir, 'journal');
  if (partial.dataDir && !process.env.POPLET_BACKUPS) base.backupDir = join(partial.dataDir, 'backups');
  return { ...base, ...partial };
}

export async function startServer(partial: Partial<ServerConfig> = {}, log: Log = createLog()): Promise<RunningServer> {
  const config = resolveConfig(partial);
  // `poplet purge` holds the database exclusively through its VACUUM (minutes for a large one):
  // wait for it instead of failing with SQLITE_BUSY after the 5 s busy timeout.
  const db = await openDbWaiting(config.dbPath, { synchronous: config.synchronous }, {
    onWait: (waitMs) =>
      log.warn({ db: config.dbPath, waitMinutes: Math.round(waitMs / 60_000) }, 'another process holds the database (likely a running `poplet purge`): waiting for it before starting'),
  });
  const deps: ServerDeps = { db, config, secret: loadSecret(config.dataDir), log };
  const app = buildApp(deps);
  // Registers the hooks outbox writer before the first sign-up can arrive.
  const worker = startHookWorker(deps);
  const retention = startRetentionJob(deps);
  // Runs a purge of the database file that fell due while no server ran, then each one recorded.
  const purges = startPurgeJob(deps);
  const backups = startBackupJob(deps);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    await worker.stop();
    retention.stop();
    // The backup's read is what keeps a purge's checkpoint waiting: stopped first.
    await backups.stop();
    await purges.stop();
    db.close();
    // A bare "listen EADDRINUSE" does not say which setting moves the server.
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw Object.assign(new Error(`port ${config.port} on ${config.host} is already in use: stop what listens there, or pick another port with POPLET_PORT or --port`), { code: 'EADDRINUSE' });
    throw e;
  }
  const { address, port } = app.server.address() as AddressInfo;
  const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address;
  const url = `http://${host}:${port}`;
  log.info({ url, db: config.dbPath }, 'listening');
  // On the database's disk by default: say so, the policy's backups are only as safe as their disk.
  log.info(
    config.backupEveryHours
      ? { backupDir: config.backupDir, everyHours: config.backupEveryHours, keepDays: config.backupKeep }
      : { backupDir: config.backupDir, everyHours: 0 },
    config.backupEveryHours
      ? 'backups: taken by the server; copy the folder to other storage, a backup on the database\'s disk does not survive that disk'
      : 'backups: not taken by the server (POPLET_BACKUP_EVERY=0): schedule `poplet backup`',
  );
  log.info(
    { withinMinutes: config.purgeWithinMinutes },
    config.purgeWithinMinutes
      ? `purges of the database file: one for every erasure and retention delete, ${config.purgeWithinMinutes} minutes after the first (POPLET_PURGE_WITHIN)`
      : 'purges of the database file: at each erasure, which answers once it is done (POPLET_PURGE_WITHIN=0)',
  );
  // Live campaigns stored under an older, looser schema are skipped when served: say so now,
  // not only when a visitor asks for them.
  for (const site of listSites(db))
    liveCampaigns(db, site.id, (line) => log.warn({ site: site.id, skipped: line }, 'stored campaign is invalid: visitors will not see it; fix and import it again'));

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // A backup being written is stopped and its partial file deleted: the next start takes it.
      // First: its read is what would keep a purge's checkpoint waiting.
      await backups.stop();
      // No VACUUM at shutdown (it holds the event loop; Docker's stop timeout is 10 s): a purge
      // recorded and not yet run, or whose wait for the WAL is cut short, stays recorded and the
      // next start runs it. An erasure waiting for its purge (POPLET_PURGE_WITHIN=0) gets a 503.
      await purges.stop();
      // Hook posts in flight get the grace requests in flight get, at the same time: a cut one
      // is sent again at the next start (worker.ts).
      await Promise.all([app.close(), worker.stop(config.shutdownGraceMs)]);
      retention.stop();
      db.close();
      log.info({}, 'stopped');
    })());
  return { url, deps, close };
}

/** `poplet serve`: runs until SIGTERM/SIGINT, then shuts down gracefully. */
export async function serve(config: Partial<ServerConfig>): Promise<void> {
  const server = await startServer(config);
  const stop = (signal: string) => {
    server.deps.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (e: unknown) => {
        server.deps.log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
