// The README's campaign examples are what owners copy first: each must pass the validator the
// server's import and the SDK run, so the docs cannot drift from the schema unnoticed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateCampaign } from '../../../src/shared/campaign';

const readme = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8');
const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]);
const parsed = blocks.flatMap((b) => {
  try {
    return [JSON.parse(b) as unknown];
  } catch {
    return []; // a response sketch with "…" or comments, not a campaign
  }
});
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const campaigns = parsed.flatMap((x) => (Array.isArray(x) ? x : [x])).filter((x) => isObj(x) && 'layout' in x && 'content' in x);
const contents = parsed.filter((x) => isObj(x) && 'steps' in x && !('layout' in x));
// Fragments (a layout and its content, no id) get the rest of a minimal campaign.
const base = { id: 1, name: 'fragment', status: 'live', trigger: { type: 'landing' } };
const whole = (c: unknown) => ({ ...base, ...(c as object) });

describe('README campaign examples', () => {
  it('finds the first campaign, the complete campaign and the content example', () => {
    expect(campaigns.map((c) => (c as { name: string }).name)).toEqual(expect.arrayContaining(['Welcome offer', 'Spring sale, returning visitors']));
    expect(contents.length).toBeGreaterThanOrEqual(1);
  });
  it.each(campaigns.map((c) => [whole(c).name, c]))('%s is valid', (_name, c) => {
    expect(validateCampaign(whole(c))).toMatchObject({ ok: true });
  });
  it('the content example is valid content', () => {
    for (const content of contents) expect(validateCampaign(whole({ layout: { type: 'popup' }, content }))).toMatchObject({ ok: true });
  });
});
