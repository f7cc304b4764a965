// `npm start`: the whole Poplet demo on localhost. The build already ran (npm start runs it first);
// this starts the collection server on ./.data/demo, provisions the demo site, serves the demo shop
// on another port (cross-origin, as in production) and prints everything needed to try it.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../src/server/config';
import type { ServerConfig } from '../src/server/config';
import { createLog, silentLog, type Log } from '../src/server/log';
import { startServer, type RunningServer } from '../src/server/main';
import { provisionSite, registerDemoHook } from './provision';
import { startDemoSite, type DemoSite } from './site-server';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

/** The wanted port, or any free one if it is taken (a second demo, another dev server…). */
async function demoSite(port: number): Promise<DemoSite> {
  try {
    return await startDemoSite({ port });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    console.log(`Port ${port} is taken; the demo site uses a free port instead.`);
    return startDemoSite();
  }
}

/** The collection server on its configured port, or any free one if that is taken. */
async function collectionServer(config: ServerConfig, log: Log): Promise<RunningServer> {
  try {
    return await startServer(config, log);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    console.log(`Port ${config.port} is taken; the collection server uses a free port instead (POPLET_PORT sets it).`);
    return startServer({ ...config, port: 0 }, log);
  }
}

function banner(o: { siteUrl: string; serverUrl: string; siteId: string; apiKey: string; created: boolean; hookUrl: string; hookId: number; dataDir: string }): string {
  const h = `-H 'Authorization: WISEPOPS-API key="${o.apiKey}"'`;
  return `
${bold('Poplet demo is running.')}  Ctrl-C stops everything.

  Demo shop          ${o.siteUrl}/
    product page     ${o.siteUrl}/product
    blog post        ${o.siteUrl}/blog/green-tea-guide   (inline embed form)
    pricing          ${o.siteUrl}/pricing                (button sets the 'plan' property)
    account          ${o.siteUrl}/account                (properties set before the script loads)
    from newsletter  ${o.siteUrl}/poplet/newsletter      (a new session from ?utm_source=newsletter: top bar)
  Collected sign-ups ${o.siteUrl}/poplet/signups         (live, polls the Email API)
  Webhook receiver   ${o.siteUrl}/poplet/hooks           (signed payloads + signature check)
  Start over         ${o.siteUrl}/poplet/reset           (clears your Poplet cookies)

  Collection server  ${o.serverUrl}   (data in ${o.dataDir})
  Campaign set       ${o.serverUrl}/sites/${o.siteId}/campaigns.json
  Site id            ${o.siteId}
  API key            ${o.apiKey}   ${o.created ? '(new: shown once, kept for the demo in demo-site.json)' : '(reused from demo-site.json)'}

${bold('Email API')}
  curl ${h} '${o.serverUrl}/api1/emails'
  curl ${h} '${o.serverUrl}/api1/emails?collected_after=2026-01-01T00:00:00.000Z&wisepop_id=1001'

${bold('Hooks')}
  curl ${h} -H 'Content-Type: application/json' -d '{"event":"email","target_url":"${o.hookUrl}"}' '${o.serverUrl}/api1/hooks'
  curl ${h} '${o.serverUrl}/api1/hooks'
  curl -X DELETE ${h} '${o.serverUrl}/api1/hooks?hook_id=${o.hookId}'

${bold('Stats')}
  curl ${h} '${o.serverUrl}/api1/stats'
`;
}

async function main(): Promise<void> {
  if (!existsSync(resolve(import.meta.dirname, '../dist/poplet.js'))) {
    console.error('dist/poplet.js is missing: run `npm start` (it builds first), not demo/start.ts alone.');
    process.exit(1);
  }
  // Quiet by default so the banner stays readable; POPLET_LOG=on prints the server's JSON logs.
  const verbose = process.env.POPLET_LOG === 'on';
  const env = { ...process.env, POPLET_DATA: process.env.POPLET_DATA ?? resolve('.data/demo'), POPLET_LOG: verbose ? 'on' : 'off' };
  // The hook receiver is the demo's own localhost server, which the SSRF guard refuses by default.
  const config = { ...loadConfig(env, process.argv.slice(2)), allowPrivateHooks: true };
  const site = await demoSite(Number(process.env.DEMO_PORT ?? 8080));
  const server = await collectionServer(config, verbose ? createLog() : silentLog);
  const serverUrl = server.url.replace(/\/$/, '');
  const origins = [site.url, `http://localhost:${site.port}`];
  const { siteId, apiKey, created } = provisionSite({ dataDir: config.dataDir, dbPath: config.dbPath, origins });
  const hookId = await registerDemoHook(serverUrl, apiKey, site.hookUrl);
  site.configure({ serverUrl, siteId, apiKey });
  console.log(banner({ siteUrl: site.url, serverUrl, siteId, apiKey, created, hookUrl: site.hookUrl, hookId, dataDir: config.dataDir }));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping the demo…');
    await Promise.allSettled([site.close(), server.close()]);
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error('The demo could not start:', e instanceof Error ? e.message : e);
  process.exit(1);
});
