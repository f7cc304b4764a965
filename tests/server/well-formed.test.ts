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
