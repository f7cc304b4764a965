// One signed POST of a hook payload. No redirects are followed (a 3xx is a failure): following
// one would let a public target bounce the request to a private address.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { checkLiteralHost, guardedLookup, HTTPS_ONLY_TARGET } from './ssrf';

/** Hex HMAC-SHA256 of the exact body bytes: PHP's hash_hmac('sha256', $payload, $apiKey). */
export function signPayload(body: string, apiKey: string): string {
  return createHmac('sha256', apiKey).update(body, 'utf8').digest('hex');
}

export interface PostOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  /**
   * HTTPS is required: an http target (a hook created before the option was on) is not
   * connected to at all, and the delivery fails with the reason, to be retried like any failure.
   */
  httpsOnly?: boolean;
  agents: { http: http.Agent; https: https.Agent };
  /** Aborts the post (the worker's stop): it then fails with the abort's error. */
  signal?: AbortSignal;
}

/** A failure's `status` is the receiver's answer, when there was one (absent for network errors and timeouts). */
export type PostResult = { ok: true; status: number } | { ok: false; error: string; status?: number };

const MAX_RESPONSE_READ = 64 * 1024;

export function postPayload(target: string, body: string, headers: Record<string, string>, opts: PostOptions): Promise<PostResult> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(target);
      checkLiteralHost(url, opts.allowPrivate);
    } catch (e) {
      return resolve({ ok: false, error: (e as Error).message });
    }
    if (opts.httpsOnly && url.protocol !== 'https:') {
      return resolve({ ok: false, error: `not sent: ${HTTPS_ONLY_TARGET}; create the hook again with an https URL` });
    }
    const secure = url.protocol === 'https:';
    const bytes = Buffer.from(body, 'utf8');
    let settled = false;
    const done = (r: PostResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = (secure ? https : http).request(url, {
      method: 'POST',
      agent: secure ? opts.agents.https : opts.agents.http,
      lookup: guardedLookup(opts.allowPrivate),
      signal: opts.signal,
      headers: { ...headers, 'Content-Length': String(bytes.length), 'User-Agent': 'Poplet-Hooks/1' },
    });
    // One budget for the whole exchange (connect, send, answer), not per socket inactivity.
    const timer = setTimeout(() => {
      done({ ok: false, error: `timeout after ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    req.on('error', (e) => done({ ok: false, error: e.message || String(e) }));
    req.on('response', (res) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_READ) res.destroy();
      });
      res.on('error', () => undefined);
      const status = res.statusCode ?? 0;
      const finish = (): void =>
        done(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, error: `HTTP ${status}`, status });
      res.on('end', finish);
      res.on('close', finish);
    });
    req.end(bytes);
  });
}
