// A tiny static/page server on 127.0.0.1 for browser tests: serves dist/ under /dist/ and
// in-memory pages registered by the test, with optional extra headers (e.g. a strict CSP).
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface TestPage {
  body: string;
  headers?: Record<string, string>;
  type?: string;
}

export interface StaticServer {
  url: string;
  port: number;
  pages: Map<string, TestPage>;
  close(): Promise<void>;
}

const DIST = resolve(import.meta.dirname, '../../dist');

export async function startStaticServer(): Promise<StaticServer> {
  const pages = new Map<string, TestPage>();
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const page = pages.get(path);
    if (page) {
      res.writeHead(200, { 'content-type': page.type ?? 'text/html; charset=utf-8', ...page.headers });
      res.end(page.body);
      return;
    }
    if (path.startsWith('/dist/')) {
      try {
        const file = join(DIST, path.slice('/dist/'.length).replace(/\.\./g, ''));
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
        res.end(body);
        return;
      } catch {
        /* fall through to 404 */
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pages,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
