// A seeded HTTP fuzz of the real server (real sockets, real SQLite file): every route with odd
// methods, paths, query strings, headers, framings and bodies; malformed HTTP, pipelining, resets
// and slow clients on raw sockets; keep-alive conversations; valid sign-ups sent among them in
// every framing a client may use. Whatever arrives: the answer is one of the documented statuses,
// an error is JSON {error: string}, every answer carries the security headers, the API's answers
// hold what they should, nothing hangs, the server logs no error and still answers afterwards,
// and every valid sign-up is stored exactly once (one 201; a retry gets 200 and the same
// collected_at) and listed once by the Email API. The same seed sends the same requests (but for
// times): a failure names the seed and case; FUZZ_SEED and FUZZ_CASE (that case alone) replay
// it, FUZZ_RUNS multiplies the 2,000 cases (the same variables as the SDK's fuzz tests).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORIGIN, addCampaigns, captureLog, startFixture, type Fixture } from './fixture';
import { Obj, Raw, Rng, chunked, pool, serialize, slots, tree, type J } from './fuzz-kit';
import { converse, exchange, requestBytes, type Answer, type Exchange } from './raw-http';

const SEED = Number(process.env.FUZZ_SEED || 0x5eed1);
const CASES = 2000 * Number(process.env.FUZZ_RUNS || 1);
const ONLY = process.env.FUZZ_CASE === undefined ? undefined : Number(process.env.FUZZ_CASE);
/** node:http's limit on receiving a request here: a request cut short gets its 408 within about this. */
const REQUEST_TIMEOUT_MS = 1_500;
const BOUND_MS = REQUEST_TIMEOUT_MS + 4_000;

/** Every status the README's HTTP API says a client can get (no 503: no shutdown, disk full or dead database here). */
const DOCUMENTED = new Set([200, 201, 204, 304, 400, 401, 403, 404, 408, 413, 415, 422, 429]);
const SECURITY = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

let f: Fixture;
const log = captureLog();
let dist: string;
const CHUNK_KEY = 'abcdef012345';
/** ETags the server gave, so If-None-Match can match (304). */
const etags: string[] = [];

beforeAll(async () => {
  dist = mkdtempSync(join(tmpdir(), 'poplet-fuzz-dist-'));
  for (const name of ['poplet.js', 'poplet.ui.js', 'poplet.collect.js']) writeFileSync(join(dist, name), `/* ${name} */`);
  mkdirSync(join(dist, 'chunks', CHUNK_KEY), { recursive: true });
  writeFileSync(join(dist, 'chunks', CHUNK_KEY, 'poplet.ui.js'), '/* ui chunk */');
  f = await startFixture(
    {
      logRequests: true,
      collectPerMinute: 1_000_000,
      eventsPerMinute: 1_000_000,
      apiPerMinute: 1_000_000,
      // Each request from an address of its own (X-Forwarded-For): the 20 wrong keys a minute an
      // address may send would otherwise close the API to every later case.
      trustProxy: true,
      requireHttps: false,
      allowPrivateHooks: true,
      countryHeader: 'cf-ipcountry',
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      backupEveryHours: 0,
      distDir: dist,
    },
    log,
  );
  addCampaigns(f.db, f.site, { 7: ['a', 'b'], 8: [] });
  for (const path of [`/sites/${f.site}/campaigns.json`, '/poplet.js', `/chunks/${CHUNK_KEY}/poplet.ui.js`]) etags.push((await fetch(f.url + path)).headers.get('etag')!);
}, 30_000);
afterAll(async () => {
  await f?.close();
  if (dist) rmSync(dist, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Generators.

const ODD_STRINGS = [
  '', ' ', '0', '-1', '1e400', 'NaN', 'null', 'true', '[]', '{}', '__proto__', 'constructor', 'toString', 'hasOwnProperty',
  '\u0000', '\ud800', '\udc00x', 'x\ud83d', '😀', '\u202e', '\u200b', '\ufeff', 'ǅ', 'İ', '%00', '%', '_', '*', '\\', '"', "'", '<script>',
  'a'.repeat(65), 'a'.repeat(1001), 'é'.repeat(300), '\r\n', 'control', 'default', 'a', 'x@y.zz',
];
const ODD_NUMBERS = ['-0', '1e400', '-1e400', '1e-400', '0.1', '1.0', '1E2', '9007199254740993', '-1', '0', '2147483648', '1e21', '0.0000001', '-9007199254740992'];

function oddValue(rng: Rng, depth = 0): J {
  switch (rng.int(12)) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return new Raw(rng.pick(ODD_NUMBERS));
    case 3: return rng.pick([0, 1, 7, 8, 1.5, 2 ** 53, -7, Date.now(), 1e9, 1e9 + 1]);
    case 4:
    case 5: return rng.pick(ODD_STRINGS);
    case 6: return depth > 2 ? [] : Array.from({ length: rng.int(4) }, () => oddValue(rng, depth + 1));
    case 7: return depth > 2 ? new Obj([]) : new Obj(Array.from({ length: rng.int(4) }, () => [rng.pick(ODD_STRINGS), oddValue(rng, depth + 1)]));
    case 8: {
      // Deep, and one time in four unbalanced.
      const n = 500 + rng.int(3000);
      return new Raw('['.repeat(n) + ']'.repeat(rng.chance(0.75) ? n : rng.int(n)));
    }
    case 9: return new Obj([['prototype', new Obj([['x', 1]])]]);
    case 10: return String(Date.now() + rng.int(1e6));
    default: return new Raw(JSON.stringify(rng.pick(ODD_STRINGS)).replace(/^"/, '"\\u0000'));
  }
}
const PROTO_KEYS: Array<string | Raw> = ['__proto__', new Raw('"\\u005f_proto__"'), 'constructor', 'prototype', 'toString', 'valueOf', '__defineGetter__', 'hasOwnProperty'];

/** 1–3 changes to a valid body's tree. */
function mutateTree(root: J, rng: Rng): J {
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) {
    const all = slots(root);
    const kind = rng.int(8);
    if (kind <= 2 && all.length) {
      rng.pick(all).set(oddValue(rng));
    } else if (kind === 3 && all.length) {
      // Duplicate a key with another value, before or after the original.
      const objs = all.map((s) => s.parent).filter((p): p is Obj => p instanceof Obj && p.entries.length > 0);
      if (objs.length) {
        const o = rng.pick(objs);
        const [k] = rng.pick(o.entries);
        const entry: [string | Raw, J] = [k, oddValue(rng)];
        if (rng.chance(0.5)) o.entries.push(entry);
        else o.entries.unshift(entry);
      }
    } else if (kind === 4) {
      const objs = [root, ...all.map((s) => s.get())].filter((p): p is Obj => p instanceof Obj);
      if (objs.length) {
        const o = rng.pick(objs);
        const v = rng.chance(0.5) ? new Obj([['polluted', true]]) : oddValue(rng);
        o.entries.splice(rng.int(o.entries.length + 1), 0, [rng.pick(PROTO_KEYS), v]);
      }
    } else if (kind === 5) {
      const objs = [root, ...all.map((s) => s.get())].filter((p): p is Obj => p instanceof Obj && p.entries.length > 0);
      if (objs.length) {
        const o = rng.pick(objs);
        o.entries.splice(rng.int(o.entries.length), 1);
      }
    } else if (kind === 6) {
      root = rng.pick<J>([[root], new Obj([['data', root]]), serialize(root), null, 0, 'x', []]);
    } else {
      // Deep nesting in a field, or around the whole body.
      // 90,000 fits /collect's 192 KB limit only.
      const depth = rng.pick([100, 1000, 5000, 10_000, 90_000]);
      const deep = new Raw(rng.chance(0.5) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
      if (all.length && rng.chance(0.7)) rng.pick(all).set(deep);
      else root = deep;
    }
  }
  return root;
}

/** Changes to the body's bytes, as a broken client or a hostile one writes them. */
function mutateBytes(text: string, rng: Rng): Buffer {
  const buf = Buffer.from(text, 'utf8');
  const at = rng.int(buf.length + 1);
  switch (rng.int(14)) {
    case 0: return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), buf]);
    case 1: return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), buf]);
    case 2: return Buffer.from(`\ufeff${text}`, 'utf16le');
    case 3: return buf.subarray(0, at);
    case 4: return Buffer.concat([buf, Buffer.from(rng.pick(['}', ',', 'x', '\u0000', '{}', ' []', '\n\n', 'null']))]);
    case 5: {
      const bad = rng.pick([[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xc3], [0x80], [0xf4, 0x90, 0x80, 0x80]]);
      return Buffer.concat([buf.subarray(0, at), Buffer.from(bad), buf.subarray(at)]);
    }
    case 6: return Buffer.concat([buf.subarray(0, at), Buffer.from(rng.pick(['\u00a0', '\u2028', '\t', '/* */', "'", 'NaN', ',,'])), buf.subarray(at)]);
    case 7: return Buffer.alloc(0);
    case 8: return Buffer.from(rng.pick([' ', '\r\n', 'null', '""', '0', '[]', '{}', 'true', '"x"', '-0', '1e400']));
    case 9: return Buffer.from(text.replace(/"(\w+)":/, "'$1':"));
    case 10: return Buffer.from(text.replace(/,\s*\}/, '}').replace(/\}$/, ',}'));
    case 11: return Buffer.concat([buf, Buffer.alloc(rng.pick([16 * 1024, 200 * 1024]), 0x20)]);
    default: return buf;
  }
}

interface Template {
  method: string;
  path: string;
  /** The query parameters the route reads. */
  query?: string[];
  /** A valid body for it. */
  body?: () => unknown;
}

let fuzzN = 0;
const fuzzId = () => `fuzz${(fuzzN++).toString().padStart(8, '0')}`;
/** Addresses fuzz cases use: never one of the kept sign-ups' (keep.example), nor a case variant of one. */
const fuzzEmail = (rng: Rng) => rng.pick(['a@fuzz.example', 'B@Fuzz.Example', ' c@fuzz.example ', '%', '%@keep.example', '_@keep.example', '*', 'keep.example', '@keep.example']);

/** Form fields a sign-up may carry (valid ones: odd names and values the rules allow). */
const ODD_FIELDS: Array<(i: number) => [string, string]> = [
  (i) => [`City${i}`, 'Lyon'],
  (i) => [['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'length', '0', 'a.b', '$where'][i % 8]!, 'x'],
  (i) => [`😀${i}`, '😀'.repeat(500)],
  (i) => [`Name ${i}`, 'é'.repeat(1000)],
  (i) => [`Text${i}`, 'line\nline\r\n\ttab'],
  (i) => [`Rtl${i}`, '\u202eevil'],
  (i) => [`Zw${i}`, 'a\u200bb\ufeff'],
  (i) => [`Sep${i}`, '\u2028\u2029'],
  (i) => [`Empty${i}`, ''],
  (i) => [`${'n'.repeat(48)}${String(i).padStart(2, '0')}`, '<script>alert(1)</script>'],
];

/** Every route, with the method and body it takes. */
function templates(rng: Rng): Template[] {
  const site = rng.chance(0.9) ? f.site : rng.pick([f.other.site, 'nosuchsite', '__proto__', 'constructor', 'a'.repeat(64)]);
  const signupBody = () => ({
    id: fuzzId(),
    site,
    wisepop_id: rng.pick([7, 8, 99]),
    email: rng.pick(['fuzz@fuzz.example', ' fuzz@fuzz.example', 'ÿ@fuzz.example', 'a@xn--e1afmkfd.xn--p1ai']),
    ...(rng.chance(0.6) ? { fields: Object.fromEntries(Array.from({ length: rng.pick([1, 3, 50]) }, (_, i) => rng.pick(ODD_FIELDS)(i))) } : {}),
    ...(rng.chance(0.3) ? { consent: 'I agree' } : {}),
    ...(rng.chance(0.3) ? { variant: rng.pick(['a', 'b', 'control', 'zzz']) } : {}),
    ...(rng.chance(0.1) ? { hp: rng.pick(['', 'bot']) } : {}),
  });
  const eventsBody = () => ({
    site,
    ...(rng.chance(0.5) ? { visitor: 'visitor-fuzz-' + rng.int(100) } : {}),
    events: Array.from({ length: 1 + rng.int(3) }, () =>
      rng.chance(0.3)
        ? { k: 'goal', c: rng.pick([7, 8]), t: Date.now(), n: rng.pick(['purchase', '__proto__', 'constructor', 'hasOwnProperty']), r: rng.pick([1, 0, 10.5, 1e9]) }
        : { k: rng.pick(['display', 'close', 'click', 'signup']), c: rng.pick([7, 8, 99]), t: Date.now() - rng.int(1e9), ...(rng.chance(0.5) ? { g: rng.pick(['a', 'b', 'control', 'default', '__proto__']) } : {}) },
    ),
  });
  const hookBody = () => ({ event: 'email', target_url: rng.pick(['http://127.0.0.1:9/hook', 'https://127.0.0.1:9/x', 'http://[::1]:9/', 'http://127.0.0.1:9/' + 'p'.repeat(2030)]), ...(rng.chance(0.3) ? { wisepop_id: rng.pick([7, '7']) } : {}) });
  const hookId = () => ({ hook_id: 1 + rng.int(4) });
  return [
    { method: 'POST', path: '/collect', body: signupBody },
    { method: 'POST', path: '/collect', body: signupBody },
    { method: 'OPTIONS', path: '/collect' },
    { method: 'POST', path: '/events', body: eventsBody },
    { method: 'OPTIONS', path: '/events' },
    { method: rng.pick(['GET', 'HEAD']), path: `/sites/${encodeURIComponent(site)}/campaigns.json` },
    { method: rng.pick(['GET', 'HEAD']), path: rng.pick(['/poplet.js', '/poplet.ui.js', '/poplet.collect.js']) },
    { method: rng.pick(['GET', 'HEAD']), path: `/chunks/${rng.pick([CHUNK_KEY, CHUNK_KEY, 'ffffffffffff', 'ABCDEF012345', '..%2F..%2Fetc', 'abc'])}/${rng.pick(['poplet.ui.js', 'poplet.collect.js'])}` },
    { method: rng.pick(['GET', 'HEAD']), path: '/api1/emails', query: ['collected_after', 'wisepop_id', 'page', 'page_size', 'site'] },
    { method: 'DELETE', path: '/api1/emails', query: ['email', 'email', 'site'] },
    { method: rng.pick(['GET', 'HEAD']), path: '/api1/stats', query: ['from', 'to', 'wisepop_id', 'variant', 'site'] },
    { method: 'GET', path: '/api1/hooks', query: ['site'] },
    { method: 'POST', path: '/api1/hooks', body: hookBody },
    { method: 'DELETE', path: '/api1/hooks', query: ['hook_id'], body: rng.chance(0.5) ? hookId : undefined },
    { method: 'POST', path: '/api1/hooks/retry', query: ['hook_id'], body: rng.chance(0.5) ? hookId : undefined },
    { method: rng.pick(['GET', 'HEAD']), path: '/healthz' },
    { method: 'GET', path: rng.pick(['/', '/api1', '/api1/', '/sites', '/chunks', '/favicon.ico', '/api1/emails/1', '/collect/x']) },
  ];
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH', 'QUERY', 'PURGE', 'LOCK', 'M-SEARCH', 'REPORT', 'MKCOL', 'COPY'];
/** Methods node:http's parser refuses (a 400 before any route). */
const BAD_METHODS = ['get', 'FOO', 'POST ', 'G\u00c9T'];

function mutatePath(path: string, rng: Rng): string {
  switch (rng.int(16)) {
    case 0: return path.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`);
    case 1: return path.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    case 2: return path + '%00';
    case 3: return path.replace(/\/([^/]*)$/, '%2F$1');
    case 4: return `/.${path}`;
    case 5: return `/x/..${path}`;
    case 6: return path + '/';
    case 7: return `/${path}`;
    case 8: return path.toUpperCase();
    case 9: return path.replace(/\/[^/]*$/, `/${rng.pick(['a', '%61', '%C3%A9']).repeat(rng.pick([34, 101, 1000, 8000]))}`);
    case 10: return path + rng.pick(['%', '%z', '%C0%AF', '%E0%A4%A', '%ff', '%u0041', '%%32%65']);
    case 11: return path.replace(/s/, rng.chance(0.8) ? '%C5%BF' : 'ſ');
    case 12: return path.replace(/\//g, rng.pick(['\\', '//', '/./']));
    case 13: return rng.pick(['*', '', '/', `http://poplet.test${path}`, `//evil.example${path}`, '/%2e%2e/%2e%2e/etc/passwd', path.replace(/\./g, '%2e')]);
    case 14: return path + ';jsessionid=1';
    default: return `${path}#frag`;
  }
}

/** Query values as the server decodes them; sent percent-encoded. */
const QUERY_VALUES = [
  '', '1', '0', '-1', '-0', '2', '1000', '1001', '1000000', '1000001', '1e400', '1.5', '9007199254740993', 'NaN', 'Infinity', 'true', '[]', '0x10', ' 1', '1 ',
  '2026-02-30', '2026-01-01', '0000-01-01', '0001-01-01', '9999-12-31', '+002026-01-01', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.123456789+01:00', '2026-01-01 00:00',
  '2026-13-01T25:61:61Z', '2026-01-01T00:00:00+99:99', 'control', 'default', 'a', 'a b', '\u202e', '😀', '\u0000', 'x@fuzz.example', '%', '__proto__', 'constructor',
  'é'.repeat(64), 'a'.repeat(65),
];
/** Query values as written on the wire, broken. */
const RAW_QUERY_VALUES = ['%', '%zz', '%C0%AF', '%ED%A0%80', '%F0%9F%98', '%ff', 'a+b', '%2B', '%25', '%u0041', '%00', 'a%20b%'];
const QUERY_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'a[]', 'page[]', 'page[0]', '', 'PAGE', 'site%00', '__proto__[page]', 'page.x', '%70age'];

/** Values the routes take, so requests get past their checks to the database. */
function usefulValue(key: string, rng: Rng): string {
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  switch (key) {
    case 'page': case 'page_size': return String(rng.pick([1, 2, 100, 1000, 1_000_000]));
    case 'wisepop_id': return rng.pick(['7', '8', '12345']);
    case 'from': case 'to': return day(rng.pick([-400, -366, -30, -1, 0, 1]));
    case 'collected_after': return rng.pick([new Date(Date.now() - rng.int(1e6)).toISOString(), day(-1), day(0) + 'T00:00', day(0) + 'T00:00:00+02:00']);
    case 'variant': return rng.pick(['a', 'b', 'control', 'default']);
    case 'site': return rng.pick([f.site, f.other.site]);
    case 'hook_id': return String(1 + rng.int(4));
    case 'email': return fuzzEmail(rng);
    default: return '1';
  }
}

function queryString(names: string[], rng: Rng): string {
  const parts: string[] = [];
  const n = rng.int(5);
  for (let i = 0; i < n; i++) {
    const key = rng.chance(0.8) && names.length ? rng.pick(names) : rng.pick(QUERY_KEYS);
    const value = rng.chance(0.05)
      ? 'x'.repeat(rng.pick([2_000, 20_000]))
      : rng.chance(0.1)
        ? rng.pick(RAW_QUERY_VALUES)
        : encodeURIComponent(rng.chance(0.5) ? usefulValue(key, rng) : rng.pick(QUERY_VALUES));
    parts.push(rng.chance(0.1) ? key : `${key}=${value}`);
    if (rng.chance(0.15)) parts.push(`${key}=${encodeURIComponent(rng.pick(QUERY_VALUES))}`);
  }
  if (!parts.length && rng.chance(0.5)) return rng.pick(['', '?', '?&&', '?=', '?;']);
  return parts.length ? `?${parts.join(rng.chance(0.9) ? '&' : ';')}` : '';
}

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;charset=UTF-8', 'application/json; charset=utf-16',
  'application/json; charset="utf-8"', 'text/plain', 'text/plain;charset=UTF-8', 'text/plain; charset=iso-8859-1', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x', 'application/vnd.api+json', 'application/jsonx', 'json', '', ';', 'application/json; charset', 'application/json; a=b; a=c',
  'application/json, text/plain', 'text/plain; boundary="x', '*/*', 'application/*', 'application/json\t', `application/json; x=${'y'.repeat(4000)}`, 'text/html', 'Text/Plain ; Charset=utf-8',
];

function authorization(rng: Rng): string | undefined {
  switch (rng.int(12)) {
    case 0: case 1: case 2: case 3: return `WISEPOPS-API key="${f.key}"`;
    case 4: return undefined;
    case 5: return `wisepops-api   key="${f.key}"`;
    case 6: return `WISEPOPS-API key="${f.other.key}"`;
    case 7: return `WISEPOPS-API key="${'k'.repeat(rng.pick([10, 200, 201, 5000]))}"`;
    case 8: return rng.pick([`Bearer ${f.key}`, `Basic ${Buffer.from(`x:${f.key}`).toString('base64')}`, 'WISEPOPS-API', 'WISEPOPS-API key=', `WISEPOPS-API key=${f.key}`, '', ' ', 'Digest x']);
    case 9: return `WISEPOPS-API key="${f.key}" `;
    case 10: return `WISEPOPS-API key="${f.key}\u00e9"`;
    default: return `WISEPOPS-API key="${f.key}", WISEPOPS-API key="x"`;
  }
}

interface Case {
  /** What the failure message shows. */
  what: string;
  parts: Buffer[];
  head: boolean[];
  want: number;
  gapMs?: number;
  /** A valid sign-up sent in this case: its id, address, and which answer is its. */
  keep?: { id: string; email: string; answer: number };
  /** Sent on two connections at once (a retry racing the first send). */
  twins?: boolean;
  halfClose?: boolean;
  /** The client resets the connection this long after sending: no answer to check. */
  abortAfterMs?: number;
  /** A sign-up id the server must not store (its request never arrived in full). */
  neverStored?: string;
  /** `parts` are requests sent one after another on one connection, each after the previous answer. */
  conversation?: boolean;
  /** The request's framing is broken: what follows it on the connection is read as part of it or as junk. */
  desync?: boolean;
  /** Carries the right API key of f.site. */
  authorized: boolean;
}

let keepN = 0;
function keepSignup(rng: Rng): { id: string; email: string; body: Buffer } {
  keepN += 1;
  const id = `keep${String(keepN).padStart(8, '0')}${rng.int(1e6)}`;
  const email = `kept${keepN}@keep.example`;
  const body = { id, site: f.site, wisepop_id: rng.pick([7, 8, 12345]), email, fields: { City: rng.pick(['Lyon', 'Zürich', '東京', 'a'.repeat(1000)]) }, ...(rng.chance(0.5) ? { consent: 'I agree' } : {}), ...(rng.chance(0.3) ? { variant: 'a' } : {}) };
  return { id, email, body: Buffer.from(JSON.stringify(body)) };
}

/** A sign-up under a kept id and address, as sent again. */
const keepSignupBytes = (id: string, email: string) => Buffer.from(JSON.stringify({ id, site: f.site, wisepop_id: 7, email }));

const host = (): [string, string] => ['Host', 'poplet.test'];
const xff = (rng: Rng): [string, string] => ['X-Forwarded-For', `198.51.${rng.int(256)}.${rng.int(256)}`];

/** A valid sign-up in one of the framings a real client may use; all must be stored. */
function keepCase(rng: Rng): Case {
  const k = keepSignup(rng);
  const type = rng.pick(['application/json', 'text/plain', 'text/plain;charset=UTF-8', 'application/json; charset=utf-8', 'Application/JSON']);
  const headers: Array<[string, string]> = [host(), xff(rng), ['Content-Type', type]];
  if (rng.chance(0.7)) headers.push(['Origin', ORIGIN]);
  let body: Buffer = k.body;
  if (rng.chance(0.2)) body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
  const framing = rng.int(6);
  let wire: Buffer;
  if (framing === 0) {
    headers.push(['Transfer-Encoding', 'chunked']);
    wire = chunked(body, rng);
  } else {
    headers.push(['Content-Length', String(body.length)]);
    wire = body;
  }
  if (framing === 1) headers.push(['Expect', '100-continue']);
  const req = requestBytes('POST /collect HTTP/1.1', headers, wire);
  if (framing === 2) {
    // Pipelined behind a GET on the same connection.
    const get = requestBytes('GET /healthz HTTP/1.1', [host()]);
    return { what: `keep ${k.id} pipelined`, parts: [Buffer.concat([get, req])], head: [false, false], want: 2, keep: { ...k, answer: 1 }, authorized: false };
  }
  if (framing === 4 && rng.chance(0.5)) {
    return { what: `keep ${k.id} twice at once`, parts: [req], head: [false], want: 1, keep: { ...k, answer: 0 }, twins: true, authorized: false };
  }
  if (framing === 3) {
    // Head, then the body in pieces.
    const cut = rng.int(wire.length);
    const headEnd = req.length - wire.length;
    return { what: `keep ${k.id} split`, parts: [req.subarray(0, headEnd), req.subarray(headEnd, headEnd + cut), req.subarray(headEnd + cut)], head: [false], want: 1, gapMs: 5, keep: { ...k, answer: 0 }, authorized: false };
  }
  if (framing === 5 && rng.chance(0.5)) {
    // Dripped in small pieces, well within the request timeout (a tenth of it).
    const size = Math.ceil(req.length / 8);
    const parts = Array.from({ length: Math.ceil(req.length / size) }, (_, i) => req.subarray(i * size, (i + 1) * size));
    return { what: `keep ${k.id} dripped`, parts, head: [false], want: 1, gapMs: REQUEST_TIMEOUT_MS / 80, keep: { ...k, answer: 0 }, authorized: false };
  }
  return { what: `keep ${k.id} framing ${framing} ${type}`, parts: [req], head: [false], want: 1, keep: { ...k, answer: 0 }, halfClose: rng.chance(0.3), authorized: false };
}

/** What can be wrong with a request; each case breaks one to three of them. */
const MUTATIONS = ['method', 'path', 'query', 'version', 'host', 'xff', 'auth', 'origin', 'headers', 'type', 'coding', 'tree', 'bytes', 'framing', 'body'] as const;
type Mutation = (typeof MUTATIONS)[number];

/**
 * A valid request to a route (method, path, the query it reads, its key, its body), then one to
 * three things about it made odd, so most cases get past every check but the broken one.
 */
function fuzzCase(rng: Rng): Case {
  const t = rng.pick(templates(rng));
  const muts = new Set<Mutation>(Array.from({ length: 1 + rng.int(3) }, () => rng.pick(MUTATIONS)));
  const has = (m: Mutation) => muts.has(m);

  const method = !has('method') ? t.method : rng.chance(0.9) ? rng.pick(METHODS) : rng.pick(BAD_METHODS);
  const path = has('path') ? mutatePath(t.path, rng) : t.path;
  let query = '';
  if (has('query')) query = queryString(t.query ?? [], rng);
  else if (t.query) {
    const names = t.query.filter(() => rng.chance(0.5));
    if (t.path === '/api1/emails' && t.method === 'DELETE') names.push('email');
    if (names.length) query = `?${[...new Set(names)].map((n) => `${n}=${encodeURIComponent(usefulValue(n, rng))}`).join('&')}`;
  }
  const target = path + query;
  const version = has('version') ? rng.pick(['HTTP/1.0', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/1.1 ', 'http/1.1']) : 'HTTP/1.1';

  const headers: Array<[string, string | Buffer]> = [];
  if (!has('host')) headers.push(host());
  else if (rng.chance(0.5)) headers.push(host(), ['Host', rng.pick(['other.test', 'poplet.test'])]);
  else if (rng.chance(0.5)) headers.push(['Host', rng.pick(['', ' ', 'a b', 'x'.repeat(300), '[::1', 'poplet.test:99999'])]);
  if (!has('xff')) headers.push(xff(rng));
  else headers.push(['X-Forwarded-For', rng.pick(['', 'garbage', '::ffff:1.2.3.4', '1.2.3.4, 5.6.7.8', '999.1.1.1', 'unknown', '[::1]:80', 'x'.repeat(3000), ',,,'])]);
  const api = t.path.startsWith('/api1');
  const auth = has('auth') ? authorization(rng) : api ? `WISEPOPS-API key="${f.key}"` : undefined;
  if (auth !== undefined) headers.push(['Authorization', auth]);
  if (has('auth') && rng.chance(0.2)) headers.push(['Authorization', rng.pick([`WISEPOPS-API key="${f.other.key}"`, 'Bearer x', `WISEPOPS-API key="${f.key}"`])]);
  const authorized = headers.some(([n, v]) => n === 'Authorization' && typeof v === 'string' && v.includes(`"${f.key}"`));
  const cors = t.path === '/collect' || t.path === '/events';
  if (has('origin')) {
    headers.push(['Origin', rng.pick(['null', 'https://evil.example', `${ORIGIN}/`, ORIGIN.toUpperCase(), ` ${ORIGIN}`, 'https://shop.example:443', 'https://xn--hop-6ua.example', ''])]);
    if (rng.chance(0.2)) headers.push(['Origin', ORIGIN]);
  } else if (cors && rng.chance(0.8)) headers.push(['Origin', ORIGIN]);
  if (t.method === 'OPTIONS' && !has('headers')) headers.push(['Access-Control-Request-Method', 'POST'], ['Access-Control-Request-Headers', 'content-type']);
  if (rng.chance(0.1)) headers.push(['cf-ipcountry', rng.pick(['FR', 'xx', '', 'T1', 'ZZZ', '\u00e9\u00e9'])]);
  if (rng.chance(0.15)) headers.push(['If-None-Match', rng.chance(0.5) ? rng.pick(etags) : rng.pick(['*', '"x"', 'W/"x", "y"', '', ',,,', '"'.repeat(100), ...etags.map((e) => `W/${e}, "x"`)])]);
  if (has('headers')) {
    switch (rng.int(9)) {
      case 0: headers.push(['X-Huge', 'h'.repeat(rng.pick([4_000, 12_000, 17_000]))]); break;
      case 1: for (let i = 0, n = rng.pick([100, 400, 2_000]); i < n; i++) headers.push([`X-N-${i}`, 'v']); break;
      case 2: headers.push(['X-Forwarded-Proto', rng.pick(['https', 'http', 'gopher', ''])]); break;
      case 3: headers.push(['Expect', rng.pick(['100-continue', 'foo', ''])]); break;
      case 4: headers.push([rng.pick(['X-Obs', 'Accept', 'Cookie', 'Range', 'Origin', 'Authorization']), Buffer.from([0x61, 0x80 + rng.int(128), 0x62])]); break;
      case 5: headers.push(['Access-Control-Request-Method', rng.pick(['POST', 'GET', 'DELETE', ''])], ['Access-Control-Request-Headers', rng.pick(['content-type', 'authorization, x-y', ''])]); break;
      case 6: headers.push(['Connection', rng.pick(['close', 'keep-alive', 'Upgrade', 'close, close', 'TE, close'])], ['Upgrade', rng.pick(['websocket', 'h2c', 'x'])]); break;
      case 7: headers.push(['Range', rng.pick(['bytes=0-1', 'bytes=-1', 'bytes=9999999999-', 'x'])], ['If-Modified-Since', rng.pick(['x', 'Thu, 01 Jan 1970 00:00:00 GMT'])]); break;
      default: headers.push(['Content-Type', rng.pick(CONTENT_TYPES)], ['Content-Type', rng.pick(CONTENT_TYPES)]);
    }
  }

  const make = has('body') && !t.body ? rng.pick(templates(rng).filter((r) => r.body)).body : has('body') && rng.chance(0.5) ? undefined : t.body;
  let body: Buffer = Buffer.alloc(0);
  let bodyWhat = 'no body';
  if (make) {
    const j = has('tree') ? mutateTree(tree(make()), rng) : tree(make());
    const text = serialize(j);
    body = has('bytes') ? mutateBytes(text, rng) : Buffer.from(text);
    bodyWhat = `${has('tree') ? 'mutated ' : ''}body ${body.length} B`;
    headers.push(['Content-Type', has('type') ? rng.pick(CONTENT_TYPES) : rng.pick(['application/json', 'text/plain;charset=UTF-8'])]);
    if (has('coding')) {
      const coding = rng.pick(['gzip', 'deflate', 'br', 'identity', 'gzip, br', 'x-unknown']);
      headers.push(['Content-Encoding', coding]);
      if (rng.chance(0.7)) body = coding === 'gzip' ? gzipSync(body) : coding === 'deflate' ? deflateSync(body) : coding === 'br' ? brotliCompressSync(body) : body;
    }
  } else if (has('type')) {
    headers.push(['Content-Type', rng.pick(CONTENT_TYPES)]);
  }
  let wire: Buffer = body;
  if (body.length && (has('framing') ? rng.chance(0.5) : rng.chance(0.1))) {
    headers.push(['Transfer-Encoding', 'chunked']);
    wire = chunked(body, rng);
  } else if (!has('framing') || rng.chance(0.5)) {
    if (body.length || rng.chance(0.3)) headers.push(['Content-Length', String(body.length)]);
  }
  if (rng.chance(0.3)) headers.push(['Connection', rng.pick(['close', 'keep-alive'])]);
  // Shuffled, so Host and the framing headers are not always first.
  for (let i = headers.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [headers[i], headers[j]] = [headers[j]!, headers[i]!];
  }
  const bytes = requestBytes(`${method} ${target} ${version}`, headers, wire);
  const what = `${method} ${target.length > 200 ? target.slice(0, 200) + '…' : target} ${version}, ${bodyWhat}, broken: ${[...muts].join(' ')}`;
  return { what, parts: [bytes], head: [method === 'HEAD'], want: 1, authorized, desync: has('framing') };
}

/**
 * Requests one after another on one keep-alive connection, maybe ending with a valid sign-up:
 * what one request leaves behind (an unread body, an error) must not spoil the next.
 */
function conversationCase(rng: Rng): Case {
  const n = 2 + rng.int(4);
  const parts: Buffer[] = [];
  const head: boolean[] = [];
  const whats: string[] = [];
  let desync = false;
  let authorized = false;
  for (let i = 0; i < n - 1; i++) {
    const c = fuzzCase(rng);
    parts.push(c.parts[0]!);
    head.push(c.head[0]!);
    whats.push(c.what);
    desync ||= !!c.desync;
    authorized ||= c.authorized;
  }
  if (!desync && rng.chance(0.6)) {
    const k = keepSignup(rng);
    parts.push(requestBytes('POST /collect HTTP/1.1', [host(), xff(rng), ['Content-Type', 'application/json'], ['Content-Length', String(k.body.length)]], k.body));
    head.push(false);
    return { what: `conversation: ${whats.join(' ; ')} ; keep ${k.id}`, parts, head, want: n, conversation: true, keep: { ...k, answer: n - 1 }, authorized };
  }
  const c = fuzzCase(rng);
  parts.push(c.parts[0]!);
  head.push(c.head[0]!);
  whats.push(c.what);
  return { what: `conversation: ${whats.join(' ; ')}`, parts, head, want: n, conversation: true, authorized: authorized || c.authorized };
}

/** Malformed HTTP written on a raw socket: framing errors, smuggling attempts, odd versions, pipelining. */
function rawCase(rng: Rng): Case {
  // Decided first: a sign-up with a kept address is sent only where the test counts it.
  const track = rng.chance(0.3);
  const k = track ? keepSignup(rng) : undefined;
  const body = k?.body ?? Buffer.from(JSON.stringify({ id: fuzzId(), site: f.site, wisepop_id: 7, email: 'raw@fuzz.example' }));
  const head = (extra: string) => `POST /collect HTTP/1.1\r\nHost: poplet.test\r\nContent-Type: application/json\r\n${extra}`;
  const n = body.length;
  const bytes0 = Buffer.concat([Buffer.from(head(`Content-Length: ${n}\r\n\r\n`)), body]);
  const options: Array<[string, Buffer, number, boolean]> = [
    // [what, bytes, answers awaited, valid HTTP: a valid sign-up sent so must be stored]
    ['content-length shorter', Buffer.concat([Buffer.from(head(`Content-Length: ${n - 5}\r\n\r\n`)), body]), 1, false],
    ['content-length longer', Buffer.concat([Buffer.from(head(`Content-Length: ${n + 10}\r\n\r\n`)), body]), 1, false],
    ['content-length twice, different', Buffer.concat([Buffer.from(head(`Content-Length: ${n}\r\nContent-Length: ${n + 1}\r\n\r\n`)), body]), 1, false],
    ['content-length twice, same', Buffer.concat([Buffer.from(head(`Content-Length: ${n}\r\nContent-Length: ${n}\r\n\r\n`)), body]), 1, false],
    ['content-length list', Buffer.concat([Buffer.from(head(`Content-Length: ${n}, ${n}\r\n\r\n`)), body]), 1, false],
    ['content-length negative', Buffer.concat([Buffer.from(head('Content-Length: -1\r\n\r\n')), body]), 1, false],
    ['content-length +n', Buffer.concat([Buffer.from(head(`Content-Length: +${n}\r\n\r\n`)), body]), 1, false],
    ['content-length huge', Buffer.concat([Buffer.from(head('Content-Length: 99999999999999999999\r\n\r\n')), body]), 1, false],
    ['content-length over the limit', Buffer.concat([Buffer.from(head(`Content-Length: ${10 * 1024 * 1024}\r\n\r\n`)), body]), 1, false],
    ['content-length and chunked', Buffer.concat([Buffer.from(head(`Content-Length: ${n}\r\nTransfer-Encoding: chunked\r\n\r\n`)), chunked(body, rng)]), 1, false],
    ['chunked twice', Buffer.concat([Buffer.from(head('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n')), chunked(body, rng)]), 1, false],
    ['chunked, gzip', Buffer.concat([Buffer.from(head('Transfer-Encoding: gzip, chunked\r\n\r\n')), chunked(gzipSync(body), rng)]), 1, false],
    ['chunked not last', Buffer.concat([Buffer.from(head('Transfer-Encoding: chunked, identity\r\n\r\n')), body]), 1, false],
    ['bad chunk size', Buffer.concat([Buffer.from(head('Transfer-Encoding: chunked\r\n\r\n')), Buffer.from(`${rng.pick(['zz', '-1', '', ' 5', '0x10', 'ffffffffffffffffff'])}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]), 1, false],
    ['chunk shorter than its size', Buffer.concat([Buffer.from(head('Transfer-Encoding: chunked\r\n\r\n')), Buffer.from(`${(n + 5).toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]), 1, false],
    ['chunk longer than its size', Buffer.concat([Buffer.from(head('Transfer-Encoding: chunked\r\n\r\n')), Buffer.from(`${(n - 5).toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]), 1, false],
    ['chunk without its CRLF', Buffer.concat([Buffer.from(head('Transfer-Encoding: chunked\r\n\r\n')), Buffer.from(`${n.toString(16)}\r\n`), body, Buffer.from('0\r\n\r\n')]), 1, false],
    ['no last chunk', Buffer.concat([Buffer.from(head('Transfer-Encoding: chunked\r\n\r\n')), Buffer.from(`${n.toString(16)}\r\n`), body, Buffer.from('\r\n')]), 1, false],
    ['chunk extension and trailer', Buffer.concat([Buffer.from(head('Transfer-Encoding: chunked\r\n\r\n')), Buffer.from(`${n.toString(16)};ext="v"\r\n`), body, Buffer.from('\r\n0\r\nX-Trailer: 1\r\n\r\n')]), 1, true],
    ['chunk extension too long', Buffer.concat([Buffer.from(head('Transfer-Encoding: chunked\r\n\r\n')), Buffer.from(`${n.toString(16)};${'e'.repeat(20_000)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]), 1, false],
    ['bare LF', Buffer.concat([Buffer.from(head(`Content-Length: ${n}\r\n\r\n`).replace(/\r\n/g, '\n')), body]), 1, false],
    ['obs-fold', Buffer.concat([Buffer.from(head(`X-A: 1\r\n  folded\r\nContent-Length: ${n}\r\n\r\n`)), body]), 1, false],
    ['space before colon', Buffer.concat([Buffer.from(head(`Content-Length : ${n}\r\n\r\n`)), body]), 1, false],
    ['NUL in a header', Buffer.concat([Buffer.from(head(`X-A: a\u0000b\r\nContent-Length: ${n}\r\n\r\n`)), body]), 1, false],
    ['CR in a header', Buffer.concat([Buffer.from(head(`X-A: a\rb\r\nContent-Length: ${n}\r\n\r\n`)), body]), 1, false],
    ['HTTP/1.0 without Host', Buffer.concat([Buffer.from(`POST /collect HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${n}\r\n\r\n`), body]), 1, true],
    ['HTTP/1.0 keep-alive', Buffer.concat([Buffer.from(`POST /collect HTTP/1.0\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: ${n}\r\n\r\n`), body]), 1, true],
    ['HTTP/0.9', Buffer.from('GET /healthz\r\n\r\n'), 1, false],
    ['HTTP/1.1 without Host', Buffer.concat([Buffer.from(`POST /collect HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: ${n}\r\n\r\n`), body]), 1, false],
    ['request line with extra spaces', Buffer.concat([Buffer.from(`POST  /collect  HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${n}\r\n\r\n`), body]), 1, false],
    ['long method', Buffer.from(`${'A'.repeat(5000)} / HTTP/1.1\r\nHost: x\r\n\r\n`), 1, false],
    ['OPTIONS *', Buffer.from('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n'), 1, false],
    ['absolute form', Buffer.concat([Buffer.from(`POST http://poplet.test/collect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${n}\r\n\r\n`), body]), 1, false],
    ['request line only, then end', Buffer.from('GET /healthz HTTP/1.1\r\n'), 1, false],
    ['nothing but CRLFs', Buffer.from('\r\n\r\n\r\n'), 1, false],
    ['binary junk', Buffer.from(Array.from({ length: 64 }, () => rng.int(256))), 1, false],
    ['TLS hello', Buffer.from('16030100a5010000a10303', 'hex'), 1, false],
    ['upgrade h2c', Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n'), 1, false],
    ['upgrade websocket', Buffer.from('GET /collect HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'), 1, false],
    ['CONNECT', Buffer.from('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n'), 1, false],
    ['expect 100-continue, no body', Buffer.from(head(`Expect: 100-continue\r\nContent-Length: ${n}\r\n\r\n`)), 1, false],
    ['content-length 0', Buffer.from(head('Content-Length: 0\r\n\r\n')), 1, false],
    ['no framing, a body', Buffer.concat([Buffer.from(head('\r\n')), body]), 1, false],
  ];
  // Pipelined: a valid sign-up, then more requests on the same connection, maybe ending in junk.
  const pipelined = (() => {
    const reqs = [Buffer.concat([Buffer.from(head(`Content-Length: ${n}\r\n\r\n`)), body])];
    const count = 1 + rng.int(4);
    for (let i = 0; i < count; i++) reqs.push(Buffer.from(rng.pick(['GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 'HEAD /poplet.js HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n', `GET /sites/${f.site}/campaigns.json HTTP/1.1\r\nHost: x\r\n\r\n`])));
    const junk = rng.chance(0.5);
    if (junk) reqs.push(Buffer.from(rng.pick(['GARBAGE\r\n\r\n', 'GET / HTTP/1.1\r\nBad Header\r\n\r\n', '\u0000\u0001\u0002'])));
    const heads = reqs.map((r) => r.subarray(0, 4).toString() === 'HEAD');
    return { bytes: Buffer.concat(reqs), want: count + 1 + (junk ? 1 : 0), heads };
  })();
  if (!track && rng.chance(0.05)) {
    // Dripped slower than the request timeout allows: a 408, and the sign-up not stored.
    const id = fuzzId();
    const late = Buffer.from(JSON.stringify({ id, site: f.site, wisepop_id: 7, email: 'late@fuzz.example' }));
    const req = Buffer.concat([Buffer.from(head(`Content-Length: ${late.length}\r\n\r\n`)), late]);
    const parts = [req.subarray(0, req.length - 20), req.subarray(req.length - 20, req.length - 10), req.subarray(req.length - 10)];
    return { what: 'raw: dripped past the request timeout', parts, head: [false], want: 1, gapMs: REQUEST_TIMEOUT_MS, neverStored: id, authorized: false };
  }
  if (!track && rng.chance(0.1)) {
    // The client gives up: reset at some point of the request or of its answer.
    const cut = rng.chance(0.5) ? bytes0.length : rng.int(bytes0.length);
    return { what: 'raw: reset by the client', parts: [bytes0.subarray(0, cut)], head: [false], want: 1, abortAfterMs: rng.int(30), authorized: false };
  }
  if (rng.chance(0.1)) {
    // Keep-alive: a valid sign-up, its answer, then junk on the same connection.
    const req = Buffer.concat([Buffer.from(head(`Content-Length: ${n}\r\n\r\n`)), body]);
    return { what: 'raw: a request, then junk', parts: [req, Buffer.from(rng.pick(['GARBAGE\r\n\r\n', '\u0000', 'GET / HTTP/9.9\r\n\r\n']))], head: [false], want: 2, gapMs: 30, keep: k && { ...k, answer: 0 }, authorized: false };
  }
  if (rng.chance(0.25)) {
    return { what: `raw: pipelined ${pipelined.want} requests`, parts: [pipelined.bytes], head: pipelined.heads, want: pipelined.want, keep: k && { ...k, answer: 0 }, authorized: false };
  }
  const [what, bytes, want] = rng.pick(track ? options.filter((o) => o[3]) : options);
  // Sent whole, or cut in two so the server reads the head and body apart.
  const cut = rng.chance(0.3) ? 1 + rng.int(bytes.length - 1) : bytes.length;
  const parts = cut < bytes.length ? [bytes.subarray(0, cut), bytes.subarray(cut)] : [bytes];
  return { what: `raw: ${what}`, parts, head: [false], want, gapMs: 5, keep: k && { ...k, answer: 0 }, authorized: false };
}

// ---------------------------------------------------------------------------------------------
// Invariants.

function checkAnswer(a: Answer, c: Case, index: number): string[] {
  const bad: string[] = [];
  if (!DOCUMENTED.has(a.status)) bad.push(`status ${a.status} is not a documented one`);
  for (const [name, value] of Object.entries(SECURITY)) if (a.headers[name] !== value) bad.push(`${name}: ${a.headers[name] ?? 'missing'}`);
  if (a.status === 429 && !/^\d+$/.test(a.headers['retry-after'] ?? '')) bad.push('429 without Retry-After');
  if (c.head[index]) {
    if (a.body.length) bad.push('HEAD answer with a body');
    return bad;
  }
  if (a.status >= 400) {
    if (!/^application\/json/.test(a.headers['content-type'] ?? '')) bad.push(`error content-type: ${a.headers['content-type']}`);
    let json: unknown;
    try {
      json = JSON.parse(a.body.toString('utf8'));
    } catch {
      bad.push(`error body is not JSON: ${a.body.toString('utf8').slice(0, 200)}`);
    }
    if (json !== undefined && (typeof json !== 'object' || json === null || Array.isArray(json) || Object.keys(json).join() !== 'error' || typeof (json as { error: unknown }).error !== 'string')) {
      bad.push(`error body is not {error: string}: ${a.body.toString('utf8').slice(0, 200)}`);
    }
  } else if (a.body.length) {
    const type = a.headers['content-type'] ?? '';
    if (!/^(application\/json|text\/javascript)/.test(type)) bad.push(`2xx content-type: ${type}`);
    if (/^application\/json/.test(type)) {
      let json: unknown;
      try {
        json = JSON.parse(a.body.toString('utf8'));
      } catch {
        bad.push('2xx JSON body does not parse');
      }
      bad.push(...checkJson(json));
    }
  }
  // Sign-ups kept by this test are listed only to their site's key.
  if (a.status < 300 && a.body.includes('keep.example') && !c.authorized) bad.push('a kept address in the answer of a request without the right key');
  return bad;
}

const isCount = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
const isRate = (n: unknown) => typeof n === 'number' && n >= 0 && n <= 1;

/** What the API's 2xx answers hold, read by shape: Email API rows, stats rows. */
function checkJson(json: unknown): string[] {
  if (!Array.isArray(json)) return [];
  const bad: string[] = [];
  for (const row of json as Array<Record<string, unknown>>) {
    if ('email' in row) {
      if (Object.keys(row).join() !== 'collected_at,email,wisepop_id,ip,country_code,other_fields,consent') bad.push(`email row keys: ${Object.keys(row).join()}`);
      if (typeof row.collected_at !== 'string' || Number.isNaN(Date.parse(row.collected_at))) bad.push(`email row collected_at: ${String(row.collected_at)}`);
      if (typeof row.ip !== 'string' || !Number.isSafeInteger(row.wisepop_id)) bad.push(`email row ip or wisepop_id: ${JSON.stringify(row).slice(0, 200)}`);
      if (Object.values(row.other_fields as object).some((v) => typeof v !== 'string')) bad.push('email row other_fields: not all strings');
    } else if ('day' in row) {
      for (const k of ['displays', 'closes', 'clicks', 'signups', 'goals', 'visitors', 'visitors_signed_up', 'visitors_with_goal']) if (!isCount(row[k])) bad.push(`stats ${k}: ${String(row[k])}`);
      for (const k of ['conversion_rate', 'visitor_conversion_rate', 'visitor_goal_rate']) if (typeof row[k] !== 'number' || !Number.isFinite(row[k])) bad.push(`stats ${k}: ${String(row[k])}`);
      if (!isRate(row.visitor_conversion_rate) || !isRate(row.visitor_goal_rate)) bad.push(`stats visitor rates: ${JSON.stringify(row).slice(0, 300)}`);
      if (typeof row.revenue !== 'number' || !Number.isFinite(row.revenue) || row.revenue < 0) bad.push(`stats revenue: ${String(row.revenue)}`);
      for (const [name, g] of Object.entries(row.goals_by_name as Record<string, { goals: unknown; revenue: unknown }>)) {
        if (!isCount(g.goals) || typeof g.revenue !== 'number' || !Number.isFinite(g.revenue)) bad.push(`stats goals_by_name.${name}: ${JSON.stringify(g)}`);
      }
    }
  }
  return bad;
}

function checkExchange(x: Exchange, c: Case): string[] {
  const bad: string[] = [];
  if (x.hung) bad.push(`hung: ${x.answers.length} of ${c.want} answers within ${BOUND_MS} ms`);
  if (!x.answers.length && !x.hung) bad.push(`closed without an answer${x.trailing.length ? `: ${x.trailing.toString('latin1').slice(0, 200)}` : ''}`);
  x.answers.forEach((a, i) => bad.push(...checkAnswer(a, c, i).map((m) => `answer ${i} (${a.status}): ${m}`)));
  // One more answer only for bytes after the requests (a body sent without its framing): a 400 or 408.
  const extra = x.answers.slice(c.want);
  if (extra.length > 1 || extra.some((a) => a.status !== 400 && a.status !== 408)) bad.push(`${x.answers.length} answers to ${c.want} requests`);
  // A malformed request is answered with a JSON body even when it was a HEAD (the parser never
  // got that far, or the answer is written on the socket): harmless, as the connection closes.
  const last = x.answers.at(-1);
  const headBody = last && /close/i.test(last.headers.connection ?? '') && last.status === 400 && x.trailing.length === Number(last.headers['content-length']);
  if (x.closed && x.trailing.length && !headBody) bad.push(`bytes after the answers: ${x.trailing.toString('latin1').slice(0, 200)}`);
  if (c.conversation && !x.hung && x.answers.length < c.want && x.answers.length && !/close/i.test(x.answers.at(-1)!.headers.connection ?? '')) {
    bad.push(`closed after ${x.answers.length} of ${c.want} requests without saying so (Connection: close)`);
  }
  return bad;
}

// ---------------------------------------------------------------------------------------------

describe(`HTTP fuzz (seed ${SEED}, ${CASES} cases)`, () => {
  it('answers every request with a documented status, JSON errors and the security headers, and keeps every valid sign-up', async () => {
    const master = new Rng(SEED);
    const cases: Array<{ index: number; seed: number; c: Case }> = [];
    for (let index = 0; index < CASES; index++) {
      const seed = master.seedOf();
      if (ONLY !== undefined && index !== ONLY) continue;
      const rng = new Rng(seed);
      // Ids and addresses numbered from the case's index: a case replayed alone sends the same.
      fuzzN = keepN = index * 100;
      const roll = rng.int(100);
      const c = roll < 8 ? keepCase(rng) : roll < 20 ? rawCase(rng) : roll < 28 ? conversationCase(rng) : fuzzCase(rng);
      cases.push({ index, seed, c });
    }
    const failures: string[] = [];
    const kept = new Map<string, { email: string; statuses: number[]; at: Set<string> }>();
    const started = Date.now();
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const seen = new Map<number, number>();
    const send = (c: Case) =>
      c.conversation
        ? converse(f.url, c.parts, c.head, BOUND_MS)
        : exchange(f.url, c.parts, { want: c.want, head: c.head, boundMs: BOUND_MS, gapMs: c.gapMs, halfClose: c.halfClose, abortAfterMs: c.abortAfterMs });
    const neverStored: string[] = [];
    await pool(cases, 8, async ({ index, seed, c }) => {
      const xs = await Promise.all(c.twins ? [send(c), send(c)] : [send(c)]);
      const bad = c.abortAfterMs === undefined ? xs.flatMap((x) => checkExchange(x, c)) : [];
      if (c.neverStored) neverStored.push(c.neverStored);
      for (const a of xs.flatMap((x) => x.answers)) seen.set(a.status, (seen.get(a.status) ?? 0) + 1);
      if (c.keep) {
        for (const x of xs) {
          // A conversation the server closed (saying so) before the sign-up: it was never sent.
          if (c.conversation && x.answers.length <= c.keep.answer && /close/i.test(x.answers.at(-1)?.headers.connection ?? '')) continue;
          const k = kept.get(c.keep.id) ?? { email: c.keep.email, statuses: [], at: new Set() };
          kept.set(c.keep.id, k);
          const a = x.answers[c.keep.answer];
          k.statuses.push(a?.status ?? 0);
          if (a?.status === 201 || a?.status === 200) k.at.add((JSON.parse(a.body.toString()) as { collected_at: string }).collected_at);
          else bad.push(`valid sign-up ${c.keep.id} answered ${a?.status ?? 'nothing'}`);
        }
      }
      if (bad.length) {
        const bytes = Buffer.concat(c.parts);
        failures.push(
          `seed ${SEED} case ${index} (case seed ${seed}): ${c.what}\n  ${bad.join('\n  ')}\n  request: ${JSON.stringify(bytes.subarray(0, 600).toString('latin1'))}${bytes.length > 600 ? ` … (${bytes.length} B)` : ''}`,
        );
      }
    });
    const elapsed = Date.now() - started;
    lag.disable();

    // Still answering.
    const health = await exchange(f.url, [requestBytes('GET /healthz HTTP/1.1', [host(), ['Connection', 'close']])], { want: 1, head: [false], boundMs: BOUND_MS });
    expect(health.answers[0]?.status).toBe(200);

    // Sent again, a stored sign-up gets its 200 and first answer.
    for (const [id, k] of [...kept].sort(([a], [b]) => (a < b ? -1 : 1)).filter((_, i) => i % 5 === 0)) {
      const again = keepSignupBytes(id, k.email);
      const x = await exchange(f.url, [requestBytes('POST /collect HTTP/1.1', [host(), ['Content-Type', 'application/json'], ['Content-Length', String(again.length)]], again)], { want: 1, head: [false], boundMs: BOUND_MS });
      const a = x.answers[0];
      k.statuses.push(a?.status ?? 0);
      if (a?.status === 200) k.at.add((JSON.parse(a.body.toString()) as { collected_at: string }).collected_at);
    }

    // Every valid sign-up stored exactly once, under its own address; created once (one 201), the
    // other answers 200 with the same collected_at.
    for (const [id, k] of kept) {
      if (k.statuses.filter((s) => s === 201).length !== 1 || k.statuses.some((s) => s !== 201 && s !== 200) || k.at.size !== 1) {
        failures.push(`valid sign-up ${id}: answers ${k.statuses.join(', ')}, collected_at ${[...k.at].join(', ')}`);
      }
    }
    const row = f.db.prepare<[string, string], { n: number; email: string }>('SELECT COUNT(*) AS n, MAX(email) AS email FROM signups WHERE client_id = ? AND site_id = ?');
    for (const [id, k] of kept) {
      const got = row.get(id, f.site)!;
      if (got.n !== 1 || got.email !== k.email) failures.push(`valid sign-up ${id} (answers ${k.statuses.join(', ')}): ${got.n} rows, email ${got.email}`);
    }
    const stored = f.db.prepare<[string], number>('SELECT COUNT(*) FROM signups WHERE client_id = ?').pluck();
    for (const id of neverStored) if (stored.get(id)) failures.push(`sign-up ${id} stored from a request that never arrived in full`);
    const keptRows = f.count("SELECT COUNT(*) FROM signups WHERE email LIKE '%@keep.example'");
    if (keptRows !== kept.size) failures.push(`${keptRows} rows of kept addresses for ${kept.size} kept sign-ups`);

    // The Email API lists each kept address once, with its fields, among everything else stored.
    const listed = new Map<string, number>();
    for (let page = 1; ; page++) {
      const r = await fetch(`${f.url}/api1/emails?page_size=1000&page=${page}`, { headers: { authorization: `WISEPOPS-API key="${f.key}"`, 'x-forwarded-for': '192.0.2.1' } });
      const rows = (await r.json()) as Array<{ email: string; other_fields: Record<string, string> }>;
      failures.push(...checkJson(rows));
      for (const row of rows) if (row.email.endsWith('@keep.example')) listed.set(row.email, (listed.get(row.email) ?? 0) + 1);
      if (rows.length < 1000) break;
    }
    for (const [id, k] of kept) if (listed.get(k.email) !== 1) failures.push(`valid sign-up ${id} listed ${listed.get(k.email) ?? 0} times by the Email API`);

    const errors = log.lines.filter((l) => l.level === 'error');
    for (const e of errors.slice(0, 10)) {
      const req = log.lines.find((l) => l.msg === 'request' && l.fields.req === e.fields.req);
      failures.push(`server logged an error: ${e.msg} ${JSON.stringify(e.fields).slice(0, 500)} ${String((e.fields.err as Error | undefined)?.stack ?? '').slice(0, 800)}${req ? `, answering ${JSON.stringify(req.fields)}` : ''}`);
    }

    const statuses = [...seen].sort((a, b) => a[0] - b[0]).map(([status, n]) => `${status}×${n}`).join(' ');
    const context = `${failures.length} failures; ${cases.length} cases in ${elapsed} ms (event loop delay up to ${Math.round(lag.max / 1e6)} ms); answers ${statuses}`;
    expect(failures.slice(0, 20).join('\n\n'), context).toBe('');
    // The generators still reach every answer a client can get, and send valid sign-ups among them.
    if (ONLY === undefined && CASES >= 1000) {
      expect([...seen.keys()].sort(), context).toEqual(expect.arrayContaining([200, 201, 204, 304, 400, 401, 403, 404, 408, 413, 415, 422]));
      expect(kept.size, context).toBeGreaterThan(CASES / 20);
    }
  });
});
