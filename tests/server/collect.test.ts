import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORIGIN, apiAuth, captureLog, getJson, post, signup, startFixture, type Fixture } from './fixture';
import type { FastifyRequest } from 'fastify';
import { createOriginRefusals, visitorIp } from '../../src/server/routes/context';
import { startReceiver, waitFor } from './hooks-fixture';
import { SIGNUP_LIMITS, type EmailRow } from '../../src/shared/signup';
import { COLLECT_BODY_LIMIT } from '../../src/server/routes/collect';
import { collectHead, rawConnect } from './raw-http';

let f: Fixture;
beforeAll(async () => {
  f = await startFixture({ collectPerMinute: 10_000, countryHeader: 'cf-ipcountry' });
});
afterAll(() => f.close());

describe('POST /collect', () => {
  it('stores a sign-up (201) with server-side collected_at, ip and trusted country', async () => {
    const body = signup(f.site, { consent: 'I agree', variant: 'b' });
    const before = Date.now();
    const r = await post(`${f.url}/collect`, body, { 'cf-ipcountry': 'fr' });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ id: body.id, collected_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
    expect(Date.parse(r.json!.collected_at as string)).toBeGreaterThanOrEqual(before - 5);
    const row = f.db.prepare('SELECT * FROM signups WHERE client_id = ?').get(body.id) as Record<string, unknown>;
    expect(row).toMatchObject({
      site_id: f.site,
      email: body.email,
      wisepop_id: 7,
      ip: '127.0.0.1',
      country_code: 'FR',
      consent: 'I agree',
      variant: 'b',
      collected_at: r.json!.collected_at,
    });
    expect(JSON.parse(row.other_fields as string)).toEqual({ City: 'Lyon' });
    expect(r.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  });

  it('stores the largest sign-up the schema takes (the body limit is above it) and refuses a body over the limit with 413', async () => {
    // 3-byte characters everywhere they are allowed, escaped control characters (6 bytes each)
    // where the schema lets them through: the compact JSON the SDK would send, at its largest.
    const wide = (n: number) => '€'.repeat(n);
    const fields = Object.fromEntries(Array.from({ length: SIGNUP_LIMITS.fields }, (_, i) => [wide(SIGNUP_LIMITS.name - 2) + String(i).padStart(2, '0'), wide(SIGNUP_LIMITS.value)]));
    const body = signup(f.site, { id: 'x'.repeat(64), email: `${wide(64)}@${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(40)}.example`, fields, consent: '\u0001'.repeat(SIGNUP_LIMITS.value), variant: '\u0001'.repeat(64) });
    const json = JSON.stringify(body);
    // Plus what the site id and honeypot could add at their largest (escaped, 6 bytes each).
    expect(Buffer.byteLength(json) + 6 * 64 + 6 * SIGNUP_LIMITS.value + 20).toBeLessThan(COLLECT_BODY_LIMIT);
    expect(Buffer.byteLength(json)).toBeGreaterThan(160_000);
    const r = await post(`${f.url}/collect`, json);
    expect(r.status).toBe(201);
    const row = f.db.prepare('SELECT other_fields, consent FROM signups WHERE client_id = ?').get(body.id) as { other_fields: string; consent: string };
    expect(JSON.parse(row.other_fields)).toEqual(fields);
    expect(row.consent).toBe('\u0001'.repeat(SIGNUP_LIMITS.value));
    const over = await post(`${f.url}/collect`, json.replace('"fields":{', `"pad":"${'x'.repeat(COLLECT_BODY_LIMIT - Buffer.byteLength(json))}","fields":{`));
    expect(over.status).toBe(413);
    expect(over.json).toEqual({ error: `body: larger than ${COLLECT_BODY_LIMIT / 1024} KB` });
  });

  it('answers a duplicate id with 200 and the original, storing nothing new', async () => {
    const body = signup(f.site);
    const first = await post(`${f.url}/collect`, body);
    const countAfterFirst = f.count();
    const again = await post(`${f.url}/collect`, { ...body, email: 'changed@example.com' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(f.count()).toBe(countAfterFirst);
    expect(f.db.prepare('SELECT email FROM signups WHERE client_id = ?').pluck().get(body.id)).toBe(body.email);
  });

  it('deduplicates concurrent retries of one id (same group commit)', async () => {
    const body = signup(f.site);
    const before = f.count();
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(`${f.url}/collect`, body)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => a.json!.collected_at)).size).toBe(1);
    expect(f.count()).toBe(before + 1);
  });

  it('stores a sign-up that arrived in full though its client reset the connection at once, with its IP', async () => {
    // The peer's address was read only when the route asked for request.ip: by then the socket
    // was gone, the address undefined, and the insert failed its NOT NULL (a 500 and an error log).
    const log = captureLog();
    const g = await startFixture({ collectPerMinute: 0 }, log);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const body = signup(g.site);
        ids.push(body.id);
        const json = JSON.stringify(body);
        const c = await rawConnect(g.url);
        c.send(collectHead(Buffer.byteLength(json)) + json);
        c.socket.resetAndDestroy();
      }
      await waitFor(() => g.count() === ids.length || log.lines.some((l) => l.level === 'error'), 5_000, 'the sign-ups');
      expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
      expect(g.db.prepare('SELECT client_id, ip FROM signups ORDER BY seq').all()).toEqual(ids.map((client_id) => ({ client_id, ip: '127.0.0.1' })));
    } finally {
      await g.close();
    }
  });

  it('accepts text/plain JSON (sendBeacon) and trims the address', async () => {
    const body = signup(f.site, { email: '  spaced@example.com ' });
    const r = await post(`${f.url}/collect`, JSON.stringify(body), { 'content-type': 'text/plain;charset=UTF-8' });
    expect(r.status).toBe(201);
    expect(f.db.prepare('SELECT email FROM signups WHERE client_id = ?').pluck().get(body.id)).toBe('spaced@example.com');
  });

  it('gives concurrent sign-ups of one site strictly increasing, unique collected_at', async () => {
    const answers = await Promise.all(Array.from({ length: 60 }, () => post(`${f.url}/collect`, signup(f.site))));
    expect(answers.every((a) => a.status === 201)).toBe(true);
    const ms = f.db.prepare('SELECT collected_ms FROM signups WHERE site_id = ? ORDER BY seq').pluck().all(f.site) as number[];
    for (let i = 1; i < ms.length; i++) expect(ms[i]!).toBeGreaterThan(ms[i - 1]!);
  });

  it('drops honeypot hits silently: the status of a genuine new sign-up, a plausible body, nothing stored', async () => {
    const body = signup(f.site, { hp: 'http://spam.example' });
    const before = f.count();
    const r = await post(`${f.url}/collect`, body);
    expect(r.status).toBe((await post(`${f.url}/collect`, signup(f.site))).status);
    expect(f.count()).toBe(before + 1); // the genuine one only
    expect(r.json).toEqual({ id: body.id, collected_at: expect.stringMatching(/Z$/) });
  });

  const long = (n: number) => 'x'.repeat(n);
  const fields50 = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}`, 'v']));
  const bad: Array<[string, number, (site: string) => unknown, string | RegExp, Record<string, string>?]> = [
    ['unknown site', 404, () => signup('nosuchsite'), 'site'],
    // `fields` is optional, so a body without it is well-formed and the site is what is wrong.
    ['unknown site, no fields', 404, () => ({ ...signup('nosuchsite'), fields: undefined }), 'site'],
    ['origin not allowed', 403, (s) => signup(s), 'origin', { origin: 'https://evil.example' }],
    ['origin "null"', 403, (s) => signup(s), 'origin', { origin: 'null' }],
    ['body over 192 KB', 413, (s) => signup(s, { fields: { Note: long(200_000) } }), 'body'],
    ['malformed JSON', 400, () => '{"id": "abc', 'body'],
    ['malformed text/plain JSON', 400, () => 'not json', 'body', { 'content-type': 'text/plain' }],
    ['text/plain JSON with a __proto__ key', 400, (s) => `{"__proto__":{"x":1},${JSON.stringify(signup(s)).slice(1)}`, 'body', { 'content-type': 'text/plain' }],
    ['unsupported content type', 415, (s) => JSON.stringify(signup(s)), 'body', { 'content-type': 'application/x-www-form-urlencoded' }],
    // Read as UTF-8 JSON, a compressed body was a 400 "not valid UTF-8", and an uncompressed one labelled gzip was taken.
    ['a content-encoding', 415, (s) => JSON.stringify(signup(s)), /^body: content-encoding gzip is not supported/, { 'content-encoding': 'gzip' }],
    ['a charset other than UTF-8', 415, (s) => JSON.stringify(signup(s)), /^body: charset utf-16 is not supported/, { 'content-type': 'application/json; charset=UTF-16' }],
    ['not an object', 422, () => [1, 2], 'body'],
    ['missing id', 422, (s) => ({ ...signup(s), id: undefined }), /^id:/],
    ['short id', 422, (s) => signup(s, { id: 'abc' }), /^id:/],
    ['id with bad characters', 422, (s) => signup(s, { id: 'abc def ghi jkl' }), /^id:/],
    ['id too long', 422, (s) => signup(s, { id: long(65) }), /^id:/],
    ['missing site', 422, (s) => ({ ...signup(s), site: undefined }), /^site:/],
    ['wisepop_id not an integer', 422, (s) => signup(s, { wisepop_id: '7' }), /^wisepop_id:/],
    ['wisepop_id zero', 422, (s) => signup(s, { wisepop_id: 0 }), /^wisepop_id:/],
    ['missing email', 422, (s) => ({ ...signup(s), email: undefined }), /^email:/],
    ['email without @', 422, (s) => signup(s, { email: 'nobody.example.com' }), /^email:/],
    ['email without TLD', 422, (s) => signup(s, { email: 'a@localhost' }), /^email:/],
    ['email with a space', 422, (s) => signup(s, { email: 'a b@example.com' }), /^email:/],
    ['email with a control character', 422, (s) => signup(s, { email: 'a\u0001b@example.com' }), /^email:/],
    ['email with DEL', 422, (s) => signup(s, { email: 'ab\u007f@example.com' }), /^email:/],
    ['email too long', 422, (s) => signup(s, { email: `${long(60)}@${long(200)}.com` }), /^email:/],
    ['fields not an object', 422, (s) => signup(s, { fields: ['a'] }), /^fields:/],
    ['fields null', 422, (s) => signup(s, { fields: null }), /^fields:/],
    ['fields a string', 422, (s) => signup(s, { fields: 'City=Lyon' }), /^fields:/],
    ['51 fields', 422, (s) => signup(s, { fields: fields50 }), /^fields:.*50/],
    ['field name over 50 chars', 422, (s) => signup(s, { fields: { [long(51)]: 'v' } }), /^fields:/],
    ['field value over 1,000 chars', 422, (s) => signup(s, { fields: { City: long(1001) } }), /^fields\.City:/],
    ['field value not a string', 422, (s) => signup(s, { fields: { Age: 42 } }), /^fields\.Age:/],
    ['consent not a string', 422, (s) => signup(s, { consent: true }), /^consent:/],
  ];

  it.each(bad)('refuses %s with %i and {error} naming the field; the database is unchanged', async (_name, status, make, error, headers) => {
    const before = f.db.prepare('SELECT COUNT(*) AS n, IFNULL(MAX(seq), 0) AS seq FROM signups').get();
    const r = await post(`${f.url}/collect`, make(f.site), headers);
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(typeof r.json?.error).toBe('string');
    if (typeof error === 'string') expect(r.json!.error).toContain(error);
    else expect(r.json!.error).toMatch(error);
    expect(f.db.prepare('SELECT COUNT(*) AS n, IFNULL(MAX(seq), 0) AS seq FROM signups').get()).toEqual(before);
  });

  it('stores a sign-up without fields (201) with empty other_fields, in the Email API and hook payloads alike', async () => {
    const g = await startFixture({ allowPrivateHooks: true });
    const rx = await startReceiver();
    try {
      g.db.prepare(`INSERT INTO hooks (site_id, event, target_url, created_at) VALUES (?, 'email', ?, ?)`).run(g.site, rx.url, new Date().toISOString());
      const { fields: _none, ...body } = signup(g.site);
      const r = await post(`${g.url}/collect`, body);
      expect(r.status).toBe(201);
      expect(g.db.prepare('SELECT other_fields FROM signups WHERE client_id = ?').pluck().get(body.id)).toBe('{}');
      const rows = (await getJson(`${g.url}/api1/emails`, apiAuth(g.key))).json as EmailRow[];
      expect(rows).toEqual([expect.objectContaining({ email: body.email, other_fields: {} })]);
      await waitFor(() => rx.accepted().length === 1, 5000, 'hook delivery');
      expect(JSON.parse(rx.accepted()[0]!.body)).toEqual(rows);
    } finally {
      await rx.close();
      await g.close();
    }
  });

  it('accepts the limits themselves: 50 fields, 50-char names, 1,000-char values, 64-char id', async () => {
    const fields = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${'n'.repeat(48)}${String(i).padStart(2, '0')}`, 'v'.repeat(250)]));
    fields[Object.keys(fields)[0]!] = 'v'.repeat(1000);
    const r = await post(`${f.url}/collect`, signup(f.site, { id: 'I'.repeat(64), fields }));
    expect(r.status).toBe(201);
  });

  it('accepts requests without Origin (server-side relays) and from the allowed origin only', async () => {
    const noOrigin = await fetch(`${f.url}/collect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(signup(f.site)),
    });
    expect(noOrigin.status).toBe(201);
    // The other site allows https://other.example and https://www.other.example only.
    const wrongSite = await post(`${f.url}/collect`, signup(f.other.site));
    expect(wrongSite.status).toBe(403);
    const right = await post(`${f.url}/collect`, signup(f.other.site), { origin: 'https://www.other.example' });
    expect(right.status).toBe(201);
  });
});

describe('CORS', () => {
  const preflight = (path: string, origin: string) =>
    fetch(`${f.url}${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });

  it('answers preflights of allowed origins on /collect and /events, cached for a day', async () => {
    for (const path of ['/collect', '/events']) {
      const r = await preflight(path, ORIGIN);
      expect(r.status).toBe(204);
      expect(r.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(r.headers.get('access-control-allow-methods')).toBe('POST');
      expect(r.headers.get('access-control-allow-headers')).toBe('content-type');
      expect(r.headers.get('access-control-max-age')).toBe('86400');
      expect(r.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('lets a page on an origin its site does not allow read the 403, on /collect and /events, errors included', async () => {
    const evil = 'https://evil.example';
    for (const path of ['/collect', '/events']) {
      const r = await preflight(path, evil);
      expect(r.status).toBe(204);
      expect(r.headers.get('access-control-allow-origin')).toBe(evil);
      expect(r.headers.get('access-control-allow-credentials')).toBeNull();
      expect(r.headers.get('vary')).toMatch(/origin/i);
    }
    const before = f.count();
    const p = await post(`${f.url}/collect`, signup(f.site), { origin: evil });
    expect(p.status).toBe(403);
    expect(p.json).toEqual({ error: 'origin: not allowed for this site' });
    expect(p.headers.get('access-control-allow-origin')).toBe(evil);
    expect(f.count()).toBe(before);
    const e = await post(`${f.url}/events`, { site: f.site, events: [{ k: 'display', c: 1, t: Date.now() }] }, { origin: evil });
    expect(e.status).toBe(403);
    expect(e.headers.get('access-control-allow-origin')).toBe(evil);
    // The other refusals a page can meet are readable too.
    const refused = [
      await post(`${f.url}/collect`, signup(f.site, { email: 'nope' }), { origin: evil }), // 422
      await post(`${f.url}/collect`, signup('nosuchsite00'), { origin: evil }), // 404
      await post(`${f.url}/collect`, '{"id":', { origin: evil }), // 400
      await post(`${f.url}/collect`, JSON.stringify({ ...signup(f.site), fields: { a: 'x'.repeat(200_000) } }), { origin: evil }), // 413
    ];
    expect(refused.map((r) => r.status)).toEqual([422, 404, 400, 413]);
    for (const r of refused) {
      expect(r.headers.get('access-control-allow-origin')).toBe(evil);
      expect(r.json).toEqual({ error: expect.any(String) });
    }
  });

  it('warns the operator once per site and origin an hour about a refused origin, naming both', async () => {
    const log = captureLog();
    const g = await startFixture({ collectPerMinute: 0, eventsPerMinute: 0 }, log);
    try {
      const warnings = () => log.lines.filter((l) => l.level === 'warn');
      for (let i = 0; i < 3; i++) expect((await post(`${g.url}/collect`, signup(g.site), { origin: 'https://www.shop.example' })).status).toBe(403);
      await post(`${g.url}/events`, { site: g.site, events: [{ k: 'display', c: 1, t: Date.now() }] }, { origin: 'https://www.shop.example' });
      expect(warnings()).toEqual([
        { level: 'warn', msg: expect.stringContaining('origin not allowed'), fields: { site: g.site, origin: 'https://www.shop.example', allowed: [ORIGIN] } },
      ]);
      await post(`${g.url}/collect`, signup(g.site), { origin: 'https://m.shop.example' });
      await post(`${g.url}/collect`, signup(g.other.site), { origin: 'https://www.shop.example' });
      expect(warnings().map((l) => [l.fields.site, l.fields.origin])).toEqual([
        [g.site, 'https://www.shop.example'],
        [g.site, 'https://m.shop.example'],
        [g.other.site, 'https://www.shop.example'],
      ]);
      // An allowed origin is not a refusal.
      expect((await post(`${g.url}/collect`, signup(g.site))).status).toBe(201);
      expect(warnings()).toHaveLength(3);
    } finally {
      await g.close();
    }
  });

  it('bounds the warnings: again after an hour, and a flood of made-up origins cannot grow memory or the log', () => {
    const log = captureLog();
    const refusals = createOriginRefusals(log, 3_600_000, 10);
    const site = { id: 's1', domain: 'd', origins: ['https://a.example'], timezone: 'UTC', created_at: '', last_active_at: null };
    refusals.refused(site, 'https://x.example', 0);
    refusals.refused(site, 'https://x.example', 3_599_999);
    refusals.refused(site, 'https://x.example', 3_600_000);
    expect(log.lines).toHaveLength(2);
    for (let i = 0; i < 100; i++) refusals.refused(site, `https://o${i}.example`, 3_600_001);
    expect(log.lines).toHaveLength(11); // 10 kept: the rest are not logged until old ones expire
    refusals.refused(site, 'https://later.example', 3 * 3_600_000);
    expect(log.lines).toHaveLength(12);
  });

  it('does not enable CORS on the Email API', async () => {
    const r = await preflight('/api1/emails', ORIGIN);
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const g = await fetch(`${f.url}/api1/emails`, { headers: { origin: ORIGIN } });
    expect(g.status).toBe(401);
    expect(g.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('headers and errors', () => {
  it('sends security headers on every response, errors included', async () => {
    for (const r of [await fetch(`${f.url}/healthz`), await fetch(`${f.url}/nope`), await fetch(`${f.url}/api1/emails`)]) {
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('keeps personal data out of caches; the public campaign set stays cacheable', async () => {
    const emails = await fetch(`${f.url}/api1/emails`, { headers: apiAuth(f.key) });
    expect(emails.status).toBe(200);
    expect(emails.headers.get('cache-control')).toBe('no-store');
    const collect = await post(`${f.url}/collect`, signup(f.site));
    expect(collect.headers.get('cache-control')).toBe('no-store');
    const campaigns = await fetch(`${f.url}/sites/${f.site}/campaigns.json`);
    expect(campaigns.headers.get('cache-control')).toMatch(/^public, max-age=\d+/);
  });

  it('answers a malformed URL with a JSON 400 and the same security headers', async () => {
    for (const path of ['/sites/%E0%A4%A/campaigns.json', '/collect%', '/api1/emails/%zz']) {
      const r = await fetch(`${f.url}${path}`);
      expect(r.status, path).toBe(400);
      expect(await r.json()).toEqual({ error: expect.stringMatching(/^url: /) });
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('answers unknown routes with JSON 404, never HTML', async () => {
    const r = await fetch(`${f.url}/wp-login.php`);
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: 'not found' });
  });

  it('reports health', async () => {
    const r = await fetch(`${f.url}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true });
  });
});

describe('the ip of a sign-up on a dual-stack server (POPLET_HOST=::)', () => {
  it('is the dotted IPv4 address, not its IPv4-mapped IPv6 form, in the Email API and hook payloads', async () => {
    // Node reports IPv4 clients of a socket bound to :: as ::ffff:a.b.c.d.
    const d = await startFixture({ host: '::', requireHttps: false });
    try {
      const base = `http://127.0.0.1:${new URL(d.url).port}`;
      const body = signup(d.site);
      expect((await post(`${base}/collect`, body)).status).toBe(201);
      const rows = (await getJson(`${base}/api1/emails`, apiAuth(d.key))).json as unknown as EmailRow[];
      expect(rows.map((r) => r.ip)).toEqual(['127.0.0.1']);
    } finally {
      await d.close();
    }
  });
});

describe('the ip of a sign-up whose client reset its connection before the server accepted it', () => {
  it('is empty: the sign-up is stored without it rather than failing (ip is NOT NULL)', () => {
    // fastify's request.ip reads the socket's address, gone with a connection reset that early.
    expect(visitorIp({ ip: undefined } as unknown as FastifyRequest)).toBe('');
    expect(visitorIp({ ip: '::ffff:203.0.113.9' } as FastifyRequest)).toBe('203.0.113.9');
  });
});

describe('the ip of a sign-up behind a proxy trusted by POPLET_TRUST_PROXY', () => {
  it('is the X-Forwarded-For address when it is one, and empty when that header holds any other text', async () => {
    const g = await startFixture({ trustProxy: true });
    try {
      const ok = signup(g.site);
      expect((await post(`${g.url}/collect`, ok, { 'x-forwarded-for': '2001:db8::7' })).status).toBe(201);
      const junk = signup(g.site);
      expect((await post(`${g.url}/collect`, junk, { 'x-forwarded-for': 'unknown<script>' + 'x'.repeat(5_000) })).status).toBe(201);
      const ipOf = (id: string) => g.db.prepare('SELECT ip FROM signups WHERE client_id = ?').pluck().get(id);
      expect(ipOf(ok.id)).toBe('2001:db8::7');
      expect(ipOf(junk.id)).toBe('');
    } finally {
      await g.close();
    }
  });

  it('is the address without the port that some proxies write after it (Azure Application Gateway, IIS ARR), and counts as that address for the rate limit', async () => {
    const g = await startFixture({ trustProxy: true, collectPerMinute: 2 });
    try {
      const ipOf = (id: string) => g.db.prepare('SELECT ip FROM signups WHERE client_id = ?').pluck().get(id);
      const v4 = signup(g.site);
      expect((await post(`${g.url}/collect`, v4, { 'x-forwarded-for': '203.0.113.9:51234' })).status).toBe(201);
      expect(ipOf(v4.id)).toBe('203.0.113.9');
      const v6 = signup(g.site);
      expect((await post(`${g.url}/collect`, v6, { 'x-forwarded-for': '[2001:db8::7]:443' })).status).toBe(201);
      expect(ipOf(v6.id)).toBe('2001:db8::7');
      // Each connection comes from another port: one visitor all the same.
      expect((await post(`${g.url}/collect`, signup(g.site), { 'x-forwarded-for': '203.0.113.9:51235' })).status).toBe(201);
      expect((await post(`${g.url}/collect`, signup(g.site), { 'x-forwarded-for': '203.0.113.9:51236' })).status).toBe(429);
    } finally {
      await g.close();
    }
  });

  it('counts an IPv6 client by its /64 for the per-IP limits (sign-ups, events, wrong API keys): each address of it is its own', async () => {
    const g = await startFixture({ trustProxy: true, requireHttps: false, collectPerMinute: 2, eventsPerMinute: 2 });
    try {
      const from = (ip: string) => ({ 'x-forwarded-for': ip });
      expect((await post(`${g.url}/collect`, signup(g.site), from('2001:db8:1:2::1'))).status).toBe(201);
      expect((await post(`${g.url}/collect`, signup(g.site), from('2001:db8:1:2:a:b:c:d'))).status).toBe(201);
      const third = await post(`${g.url}/collect`, signup(g.site), from('2001:0db8:0001:0002::3'));
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toMatch(/^\d+$/);
      // Another /64 (another household) has its own allowance.
      expect((await post(`${g.url}/collect`, signup(g.site), from('2001:db8:1:3::1'))).status).toBe(201);

      const batch = { site: g.site, events: [{ k: 'display', c: 7, t: Date.now() }] };
      for (const ip of ['2001:db8:9:9::1', '2001:db8:9:9::2']) expect((await post(`${g.url}/events`, batch, from(ip))).status).toBe(204);
      expect((await post(`${g.url}/events`, batch, from('2001:db8:9:9::3'))).status).toBe(429);

      for (let i = 1; i <= 20; i++) expect((await getJson(`${g.url}/api1/emails`, { ...apiAuth(`wrong-key-${i}`), ...from(`2001:db8:5:5::${i}`) })).status).toBe(401);
      expect((await getJson(`${g.url}/api1/emails`, { ...apiAuth(g.key), ...from('2001:db8:5:5::99') })).status).toBe(429);
      expect((await getJson(`${g.url}/api1/emails`, { ...apiAuth(g.key), ...from('2001:db8:5:6::1') })).status).toBe(200);
    } finally {
      await g.close();
    }
  });
});
