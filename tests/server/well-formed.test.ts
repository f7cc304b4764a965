// Lone surrogates and invisible format characters over HTTP: refused with a 422 naming the field,
// nothing stored (a stored lone surrogate became U+FFFD: an address shown that erasure never matched).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCampaigns, post, signup, startFixture, type Fixture } from './fixture';

let f: Fixture;
beforeAll(async () => {
  f = await startFixture({ collectPerMinute: 0, eventsPerMinute: 0 });
  addCampaigns(f.db, f.site, { 7: [] });
});
afterAll(() => f.close());

describe('POST /collect', () => {
  it.each([
    ['a lone surrogate in the address', { email: '\ud800@example.com' }, /^email: /],
    ['an invisible format character in the address', { email: 'a\u200b@example.com' }, /^email: /],
    ['a lone surrogate in a field value', { fields: { City: 'Ly\udc00on' } }, /^fields\.City: /],
    ['a lone surrogate in a field name', { fields: { '\udc00': 'x' } }, /^fields: /],
    ['a lone surrogate in the consent text', { consent: '\ud800' }, /^consent: /],
  ])('refuses %s with 422 and stores nothing', async (_name, over, error) => {
    const before = f.count();
    // JSON.stringify writes a lone surrogate as its \\u escape: the body itself is valid UTF-8.
    const r = await post(`${f.url}/collect`, signup(f.site, over));
    expect(r.status).toBe(422);
    expect(r.json!.error).toMatch(error);
    expect(f.count()).toBe(before);
  });

  it('the raw escape in the body, as a fuzzer sends it, too', async () => {
    const body = JSON.stringify(signup(f.site)).replace(/"email":"[^"]*"/, '"email":"\\ud800@example.com"');
    expect(body).toContain('\\ud800');
    const before = f.count();
    const r = await post(`${f.url}/collect`, body);
    expect(r.status).toBe(422);
    expect(f.count()).toBe(before);
  });
});

describe('POST /events', () => {
  it.each([
    ['a goal name', { k: 'goal', c: 7, t: Date.now(), n: '\ud800', r: 1 }, /^events\[0\]\.n: /],
    ['a group', { k: 'display', c: 7, t: Date.now(), g: '\udc00' }, /^events\[0\]\.g: /],
  ])('refuses a lone surrogate in %s with 422', async (_name, event, error) => {
    const r = await post(`${f.url}/events`, { site: f.site, events: [event] });
    expect(r.status).toBe(422);
    expect(r.json!.error).toMatch(error);
  });
});

// Bytes that are not UTF-8 (a truncated sequence, 0xFF) were decoded as U+FFFD and the sign-up
// stored: an address or a field the visitor never typed, as with a lone surrogate. The body is
// refused whole, before any field is read.
describe('a body that is not UTF-8', () => {
  const raw = async (path: string, bytes: Buffer, type: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${f.url}${path}`, { method: 'POST', headers: { 'content-type': type, ...headers }, body: new Uint8Array(bytes) });
    return { status: res.status, json: (await res.json()) as { error?: string } };
  };
  /** A valid sign-up's JSON with `bad` bytes spliced into its address. */
  const withBytes = (bad: number[]) => {
    const [head, tail] = JSON.stringify(signup(f.site, { email: 'SPLIT@example.com' })).split('SPLIT');
    return Buffer.concat([Buffer.from(head! + 'a'), Buffer.from(bad), Buffer.from('b' + tail!)]);
  };

  it.each([
    ['0xFF', [0xff]],
    ['a truncated sequence', [0xc3]],
    ['an encoded surrogate (CESU-8)', [0xed, 0xa0, 0x80]],
    ['an overlong encoding', [0xc0, 0xaf]],
  ])('/collect refuses %s with 400 and stores nothing, as JSON or as text/plain', async (_name, bad) => {
    const before = f.count();
    for (const type of ['application/json', 'text/plain;charset=UTF-8']) {
      const r = await raw('/collect', withBytes(bad), type);
      expect(r).toEqual({ status: 400, json: { error: 'body: not valid UTF-8' } });
    }
    expect(f.count()).toBe(before);
  });

  it('the hooks API refuses one too, where an empty body is still none', async () => {
    const auth = { authorization: `WISEPOPS-API key="${f.key}"` };
    const body = Buffer.concat([Buffer.from('{"event":"email","target_url":"https://example.com/'), Buffer.from([0xff]), Buffer.from('"}')]);
    expect(await raw('/api1/hooks', body, 'application/json', auth)).toEqual({ status: 400, json: { error: 'body: not valid UTF-8' } });
    const del = Buffer.concat([Buffer.from('{"hook_id":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    expect((await raw('/api1/hooks/retry', del, 'application/json', auth)).status).toBe(400);
  });

  it('a UTF-8 body with a byte order mark, and characters of every length, is still accepted', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(signup(f.site, { fields: { City: 'Zürich €𝄞' } })))]);
    expect((await raw('/collect', body, 'application/json')).status).toBe(201);
  });
});
