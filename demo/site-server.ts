// The demo website (Fernleaf Tea Co.) on its own localhost port, so the SDK talks cross-origin to
// the collection server as it does in production. Shop pages get the install snippet pasted in
// <head>, generated at serve time with the real server URL and site id. Tool pages list the
// collected sign-ups (through a same-origin proxy, so the API key stays server-side) and the
// webhooks received.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { snippetFor } from '../src/sdk/snippet';
import { receiveHook, type ReceivedHook } from './hook-receiver';

export interface DemoSiteConfig {
  /** Base URL of the collection server, no trailing slash. */
  serverUrl: string;
  siteId: string;
  apiKey: string;
}

export interface DemoSite {
  url: string;
  port: number;
  /** Where the hook receiver listens (register this as the hook's target_url). */
  hookUrl: string;
  /** Set once the collection server and the demo site id exist. Pages answer 503 until then. */
  configure(config: DemoSiteConfig): void;
  /** `wisepops('options', …)` pasted right after the snippet, e.g. {storage: 'localStorage'}. */
  options: Record<string, unknown>;
  /** Webhook payloads received, oldest first. */
  hooks: ReceivedHook[];
  close(): Promise<void>;
}

const SITE_DIR = join(import.meta.dirname, 'site');
const read = (file: string) => readFileSync(join(SITE_DIR, file), 'utf8');

/** Shop pages carry the snippet; tool pages do not (no popups over the demo's own tools). */
const PAGES: Record<string, { file: string; title: string; shop: boolean }> = {
  '/': { file: 'index.html', title: 'Fresh loose-leaf tea', shop: true },
  '/product': { file: 'product.html', title: 'Sencha Morning Blend', shop: true },
  '/blog/green-tea-guide': { file: 'blog-post.html', title: 'Why your green tea tastes bitter', shop: true },
  '/pricing': { file: 'pricing.html', title: 'Tea subscriptions', shop: true },
  '/account': { file: 'account.html', title: 'Your account', shop: true },
  '/poplet/signups': { file: 'signups.html', title: 'Collected sign-ups', shop: false },
  '/poplet/hooks': { file: 'hooks.html', title: 'Webhook receiver', shop: false },
  '/poplet/reset': { file: 'reset.html', title: 'Poplet cookies cleared', shop: false },
};

const ASSETS: Record<string, { file: string; type: string }> = {
  '/style.css': { file: 'site/style.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'site/favicon.svg', type: 'image/svg+xml' },
  // Browsers still ask for it now and then; a 404 would be a console error on every journey.
  '/favicon.ico': { file: 'site/favicon.svg', type: 'image/svg+xml' },
  '/poplet/live.js': { file: 'site/live.js', type: 'text/javascript; charset=utf-8' },
  '/poplet/reset.js': { file: 'site/reset.js', type: 'text/javascript; charset=utf-8' },
  '/poplet/campaigns.json': { file: 'campaigns.json', type: 'application/json; charset=utf-8' },
};

/** JSON safe to paste inside an inline <script>. */
const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const escapeAttr = (s: string) => s.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);

function cookieNames(req: IncomingMessage): string[] {
  return (req.headers.cookie ?? '')
    .split(';')
    .map((c) => c.split('=')[0]!.trim())
    .filter((name) => name.startsWith('wisepops'));
}

export async function startDemoSite(opts: { port?: number; host?: string } = {}): Promise<DemoSite> {
  const layout = read('layout.html');
  const fragments = new Map(Object.entries(PAGES).map(([path, p]) => [path, read(p.file)]));
  const assets = new Map(Object.entries(ASSETS).map(([path, a]) => [path, readFileSync(join(import.meta.dirname, a.file))]));
  let config: DemoSiteConfig | undefined;
  const site: DemoSite = {
    url: '',
    port: 0,
    hookUrl: '',
    configure: (c) => void (config = c),
    options: {},
    hooks: [],
    close: () =>
      new Promise((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };

  function head(path: string, shop: boolean, req: IncomingMessage, c: DemoSiteConfig): string {
    if (path === '/poplet/reset') return `<meta name="poplet-cleared" content="${escapeAttr(cookieNames(req).join(','))}">`;
    if (!shop) return '';
    const script = `${c.serverUrl}/poplet.js?site=${encodeURIComponent(c.siteId)}`;
    const options = Object.keys(site.options).length ? `\n<script>wisepops('options', ${inlineJson(site.options)});</script>` : '';
    return `<!-- Poplet -->\n<script>${snippetFor(script)}</script>${options}`;
  }

  function page(req: IncomingMessage, res: ServerResponse, path: string, c: DemoSiteConfig): void {
    const p = PAGES[path]!;
    const html = layout
      .replace('<!--title-->', p.title)
      .replace('<!--snippet-->', head(path, p.shop, req, c))
      .replace(`<a href="${path}">`, `<a href="${path}" aria-current="page">`)
      .replace('<!--body-->', fragments.get(path)!);
    const headers: Record<string, string | string[]> = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };
    if (path === '/poplet/reset') headers['set-cookie'] = cookieNames(req).map((n) => `${n}=; Max-Age=0; Path=/; SameSite=Lax`);
    res.writeHead(200, headers).end(html);
  }

  async function proxyEmails(req: IncomingMessage, res: ServerResponse, c: DemoSiteConfig): Promise<void> {
    const query = new URL(req.url ?? '/', 'http://x').search;
    try {
      const r = await fetch(`${c.serverUrl}/api1/emails${query}`, {
        headers: { Authorization: `WISEPOPS-API key="${c.apiKey}"` },
      });
      res.writeHead(r.status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(await r.text());
    } catch {
      res.writeHead(502, { 'content-type': 'application/json' }).end('{"error":"collection server unreachable"}');
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const asset = ASSETS[path];
    if (req.method === 'GET' && asset) {
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' }).end(assets.get(path));
      return;
    }
    if (!config) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('The demo is starting, reload in a moment.');
      return;
    }
    if (req.method === 'GET' && PAGES[path]) return page(req, res, path, config);
    // The demo strip's newsletter link: campaign 1003 reads the UTM of a session's first page, so
    // a visitor already browsing must come back as one arriving from the email would, in a new
    // session (the visit is counted as such).
    if (req.method === 'GET' && path === '/poplet/newsletter') {
      res.writeHead(302, { location: '/?utm_source=newsletter', 'set-cookie': 'wisepops_session=; Max-Age=0; Path=/; SameSite=Lax', 'cache-control': 'no-store' }).end();
      return;
    }
    if (req.method === 'GET' && path === '/poplet/api/emails') return proxyEmails(req, res, config);
    if (req.method === 'GET' && path === '/poplet/api/hooks') {
      const since = Math.max(0, Number(url.searchParams.get('since')) || 0);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(site.hooks.slice(since)));
      return;
    }
    if (req.method === 'POST' && path === '/poplet/hook') return receiveHook(req, res, config.apiKey, (h) => site.hooks.push(h));
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }

  const server = createServer((req, res) => {
    route(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('demo server error');
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => ok());
  });
  site.port = (server.address() as AddressInfo).port;
  site.url = `http://${host}:${site.port}`;
  site.hookUrl = `${site.url}/poplet/hook`;
  return site;
}
