// `campaign import` warnings: keys nothing reads (found by watching the validator read a valid
// campaign) with the key likely meant, and live campaigns that cannot show for a static reason.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { campaignWarnings, contrast, DEFAULT_COLOURS, nestedRepeat, unknownKeys } from '../../src/server/campaign-lint';
import { validateCampaign, type Campaign } from '../../src/shared/campaign';
import { testCampaign } from './fixture';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
/** A valid campaign with extra keys merged in by the test (as a JSON file would carry them). */
const withKeys = (edit: (c: Record<string, any>) => void): Campaign => { // any: the test writes keys the type does not have
  const c = clone(testCampaign(12)) as unknown as Record<string, any>; // any: as above
  edit(c);
  const r = validateCampaign(c);
  if (!r.ok) throw new Error(r.error);
  return r.campaign;
};
const paths = (c: Campaign) => unknownKeys(c).map((u) => (u.suggestion ? `${u.path} -> ${u.suggestion}` : u.path));
const ctx = { timezone: 'UTC', countryHeader: 'cf-ipcountry', now: Date.parse('2026-06-01T12:00:00Z') };

describe('unknown keys', () => {
  it('finds the walkthrough\'s misspellings and misplaced keys, with the key meant', () => {
    const c = withKeys((c) => {
      c.frequncy = { repeat: { every: 'page' } };
      c.content.closeButton = 'none';
      c.content.style = { closebutton: 'icon', noshowLink: false };
    });
    expect(paths(c)).toEqual([
      'content.closeButton -> content.style.closeButton',
      'content.style.closebutton -> content.style.closeButton',
      'content.style.noshowLink -> content.noshowLink',
      'frequncy -> frequency',
    ]);
    expect(campaignWarnings(c, ctx)).toEqual([
      'campaign 12: unknown key content.closeButton (did you mean content.style.closeButton?)',
      'campaign 12: unknown key content.style.closebutton (did you mean content.style.closeButton?)',
      'campaign 12: unknown key content.style.noshowLink (did you mean content.noshowLink?)',
      'campaign 12: unknown key frequncy (did you mean frequency?)',
    ]);
  });

  it('suggests an object the campaign leaves out, the closest first, and a key of the level above', () => {
    // No content.style at all: the validator is asked whether it would read the key there.
    expect(paths(withKeys((c) => (c.closeButton = 'none')))).toEqual(['closeButton -> content.style.closeButton']);
    expect(paths(withKeys((c) => (c.delay = 3)))).toEqual(['delay -> trigger.delay']);
    expect(paths(withKeys((c) => (c.layout = { type: 'bar', position: 'top', push: true, pushh: true })))).toEqual(['layout.pushh -> layout.push']);
    expect(paths(withKeys((c) => (c.trigger.stopAfter = { close: true })))).toEqual(['trigger.stopAfter -> frequency.stopAfter']);
  });

  it('follows every place of a campaign: rules, variants and their content, blocks, messages, odd key names', () => {
    const c = withKeys((c) => {
      c.targeting = { all: [{ type: 'visitor', is: 'new', op: 'equals' }, { not: { type: 'page', field: 'path', op: 'starts_with', value: '/x', key: 'q' } }] };
      c.variants = [{ id: 'a', weight: 1, Weight: 2, content: { ...clone(c.content), lable: 'x' } }, { id: 'b', weight: 1 }];
      c.content.steps[0].blocks.push({ type: 'email', label: 'Email', requried: true });
      c.content.messages = { requried: 'Needed', close: 'Close' };
      c['my note'] = 'kept for later';
    });
    expect(paths(c)).toEqual([
      'content.steps[0].blocks[1].requried -> content.steps[0].blocks[1].required',
      'content.messages.requried -> content.messages.required',
      // A visitor condition has no operator; a page condition reads `key` for field "query" only.
      'targeting.all[0].op',
      'targeting.all[1].not.key',
      'variants[0].Weight -> variants[0].weight',
      'variants[0].content.lable -> variants[0].content.label',
      '["my note"]',
    ]);
  });

  it('finds none in the demo campaigns and the README examples (every key they use is read)', () => {
    const demo = JSON.parse(readFileSync(join(import.meta.dirname, '../../demo/campaigns.json'), 'utf8')) as Campaign[];
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const examples = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].flatMap((m) => {
      try {
        const x = JSON.parse(m[1]!) as unknown;
        return Array.isArray(x) ? x : [x];
      } catch {
        return [];
      }
    });
    const campaigns = [...demo, ...examples].filter((c) => validateCampaign(c).ok) as Campaign[];
    expect(campaigns.length).toBeGreaterThanOrEqual(demo.length + 2);
    for (const c of campaigns) expect(unknownKeys(c), `campaign ${c.id}`).toEqual([]);
  });

  it('says nothing of an invalid campaign (its error comes first) and leaves the campaign as it was', () => {
    expect(unknownKeys({ id: 1, frequncy: {} })).toEqual([]);
    const c = withKeys((c) => (c.closeButton = 'none'));
    const before = JSON.stringify(c);
    unknownKeys(c);
    expect(JSON.stringify(c)).toBe(before);
  });
});

describe('date conditions', () => {
  const dated = (value: string | number, op = 'before') =>
    testCampaign(12, { targeting: { all: [{ type: 'property', key: 'lastPurchase', kind: 'date', op, value }] } } as Partial<Campaign>);
  it('a date that is not ISO (browsers read it apart), or a date and time with no offset (read in each visitor\'s zone)', () => {
    expect(campaignWarnings(dated('2025-06-01 10:00'), ctx)).toEqual([
      'campaign 12: targeting.all[0] date "2025-06-01 10:00" is not an ISO date: browsers read other forms differently, some not at all (then the condition never matches): write it as 2025-06-01 or 2025-06-01T10:00:00Z',
    ]);
    expect(campaignWarnings(dated('June 1, 2025', 'after'), ctx)).toHaveLength(1);
    expect(campaignWarnings(dated('2025-06-01T10:00'), ctx)).toEqual([
      'campaign 12: targeting.all[0] date "2025-06-01T10:00" has no UTC offset: each visitor\'s browser reads it in the visitor\'s own time zone: write it with one ("…Z" or "…+01:00")',
    ]);
    for (const fine of ['2025-06-01', '2025-06-01T10:00:00Z', '2025-06-01T10:00+02:00', 1748736000000]) expect(campaignWarnings(dated(fine), ctx)).toEqual([]);
  });
});

describe('field names the form gives another meaning', () => {
  const withBlocks = (blocks: unknown[]) =>
    testCampaign(12, { content: { steps: [{ blocks: [...blocks, { type: 'button', label: 'Go', action: 'submit' }] }], success: { blocks: [] } } } as unknown as Partial<Campaign>);
  it('email on another field when the email block has a name of its own; pl_hp on any field but a hidden one', () => {
    expect(campaignWarnings(withBlocks([{ type: 'email', label: 'Mail', name: 'mail' }, { type: 'text', label: 'Other', name: 'email' }]), ctx)).toEqual([
      'campaign 12: content.steps[0].blocks[1].name "email" is the sign-up\'s address, which the email block (with a name of its own) fills too: one replaces the other: rename it',
    ]);
    expect(campaignWarnings(withBlocks([{ type: 'email', label: 'Mail' }, { type: 'text', label: 'Code', name: 'pl_hp', required: true }]), ctx)).toEqual([
      'campaign 12: content.steps[0].blocks[1].name "pl_hp" is the name of the form\'s spam trap: the form then reads neither (the field\'s value is never sent, a required one can never be filled in): rename it',
    ]);
    // The email block under its default name, and a text field named email beside no named email block: nothing to say.
    expect(campaignWarnings(withBlocks([{ type: 'email', label: 'Mail', name: 'email' }, { type: 'text', label: 'Name', name: 'name' }]), ctx)).toEqual([]);
    // A hidden field draws no element (its value is read at submit): named pl_hp, it is sent, and the trap still works.
    expect(campaignWarnings(withBlocks([{ type: 'email', label: 'Mail' }, { type: 'hidden', name: 'pl_hp', from: 'user.plan' }]), ctx)).toEqual([]);
  });
});

describe('schedule hours with equal ends', () => {
  it('are said to run all day, for any status', () => {
    for (const status of ['live', 'draft'] as const)
      expect(campaignWarnings(testCampaign(12, { status, schedule: { hours: [9, 9] } }), ctx)).toEqual([
        'campaign 12: schedule.hours [9,9] has equal ends: it runs all day (for a window, give two different hours)',
      ]);
    expect(campaignWarnings(testCampaign(12, { schedule: { hours: [9, 17] } }), ctx)).toEqual([]);
  });
});

describe('live campaigns that cannot show', () => {
  it('a schedule over, in the site\'s time zone, a date-only end covering its whole day', () => {
    const ended = testCampaign(12, { schedule: { end: '2025-04-20' } });
    expect(campaignWarnings(ended, ctx)).toEqual(['campaign 12: schedule ended 2025-04-20: it will not show']);
    expect(campaignWarnings(ended, { ...ctx, timezone: 'Europe/Paris' })).toEqual(['campaign 12: schedule ended 2025-04-20 (Europe/Paris): it will not show']);
    // 2026-06-01 is still running at noon UTC, in Paris as in UTC.
    expect(campaignWarnings(testCampaign(12, { schedule: { end: '2026-06-01' } }), ctx)).toEqual([]);
    expect(campaignWarnings(testCampaign(12, { schedule: { end: '2026-06-01T11:00:00Z' } }), ctx)).toEqual(['campaign 12: schedule ended 2026-06-01T11:00:00Z: it will not show']);
    expect(campaignWarnings(testCampaign(12, { schedule: { start: '2026-07-01', end: '2026-06-30' } }), ctx)).toEqual([
      'campaign 12: schedule starts 2026-07-01, after it ends 2026-06-30: it will never show',
    ]);
    // Not live: nothing to say about showing.
    expect(campaignWarnings(testCampaign(12, { status: 'paused', schedule: { end: '2025-04-20' } }), ctx)).toEqual([]);
  });

  it('every visitor held back, and a country condition without a country header', () => {
    expect(campaignWarnings(testCampaign(12, { control: 100 }), ctx)).toEqual(['campaign 12: control 100: every visitor is held back in the control group: it will not show']);
    expect(campaignWarnings(testCampaign(12, { control: 99 }), ctx)).toEqual([]);
    const country = testCampaign(12, { targeting: { any: [{ type: 'visitor', is: 'new' }, { not: { type: 'country', op: 'in', value: ['FR'] } }] } });
    expect(campaignWarnings(country, ctx)).toEqual([]);
    expect(campaignWarnings(country, { ...ctx, countryHeader: null })).toEqual([
      "campaign 12: targeting uses the visitor's country, but POPLET_COUNTRY_HEADER is not set here: a server without it knows no country, " +
        'so country "in" never matches ("not_in" always does)',
    ]);
  });
});

describe('full screens with no way out on a touch screen', () => {
  const trap = (over: Partial<Campaign> = {}, content: Partial<Campaign['content']> = {}): Campaign =>
    testCampaign(12, {
      layout: { type: 'fullscreen' },
      content: { ...testCampaign(12).content, style: { closeButton: 'none' }, noshowLink: false, ...content },
      ...over,
    });
  const close = { type: 'button' as const, label: 'No thanks', action: 'close' as const };

  it('no close button, no "don\'t show" link, no close block: the steps without one are named, whatever the status', () => {
    const warning =
      'campaign 12: full screen with content.style.closeButton "none" and content.noshowLink false, and no close button in ' +
      'content.steps[0], content.success: on a touch screen (no Esc key) a visitor there has no way to close it';
    expect(campaignWarnings(trap(), ctx)).toEqual([warning]);
    expect(campaignWarnings(trap({ status: 'paused' }), ctx)).toEqual([warning]);
    // A close button on the first step only: the success step still traps.
    const steps = [{ blocks: [{ type: 'heading' as const, text: 'Hi' }, close] }];
    expect(campaignWarnings(trap({}, { steps }), ctx)).toEqual([warning.replace('content.steps[0], ', '')]);
    // A link button is no way out: it takes the visitor elsewhere.
    const link = { type: 'button' as const, label: 'Shop', action: 'link' as const, href: '/shop' };
    expect(campaignWarnings(trap({}, { steps: [{ blocks: [link] }], success: { blocks: [close] } }), ctx)).toEqual([warning.replace(', content.success', '')]);
  });

  it('a variant with its own content is checked as its own', () => {
    const ok = { ...testCampaign(12).content, style: { closeButton: 'none' as const }, noshowLink: false, steps: [{ blocks: [close] }], success: { blocks: [close] } };
    const c = trap({ variants: [{ id: 'a', weight: 1 }, { id: 'b', weight: 1, content: { ...ok, success: { blocks: [] } } }] }, ok);
    expect(campaignWarnings(c, ctx)).toEqual([
      'campaign 12: full screen with variants[1].content.style.closeButton "none" and variants[1].content.noshowLink false, and no close button in ' +
        'variants[1].content.success: on a touch screen (no Esc key) a visitor there has no way to close it',
    ]);
  });

  it('says nothing when there is a way out: a close button, the link, or a layout that is not a full screen', () => {
    expect(campaignWarnings(trap({}, { style: { closeButton: 'text' } }), ctx)).toEqual([]);
    expect(campaignWarnings(trap({}, { style: {} }), ctx)).toEqual([]);
    expect(campaignWarnings(trap({}, { noshowLink: true }), ctx)).toEqual([]);
    expect(campaignWarnings(trap({}, { noshowLink: undefined }), ctx)).toEqual([]);
    // A popup closes from its overlay; bars, slide-ins and embeds leave the page usable.
    for (const layout of [{ type: 'popup' }, { type: 'bar', position: 'top' }, { type: 'slidein', position: 'top-left' }, { type: 'embed', selector: '#x' }] as const)
      expect(campaignWarnings(trap({ layout }), ctx), layout.type).toEqual([]);
  });
});

describe('countdowns without a UTC offset', () => {
  const withUntil = (...until: string[]) =>
    withKeys((c) => {
      c.content.steps[0].blocks.push(...until.map((u) => ({ type: 'countdown', until: u })));
      c.variants = [{ id: 'a', weight: 1, content: { ...clone(c.content), steps: [{ blocks: [{ type: 'countdown', until: until[0] }] }] } }, { id: 'b', weight: 1 }];
    });

  it("warns for a date and time (each visitor's zone) or a bare date (midnight UTC), in the campaign's and a variant's content", () => {
    const c = withUntil('2026-12-24T23:59:59', '2026-12-24');
    const n = c.content.steps[0]!.blocks.length;
    expect(campaignWarnings(c, ctx)).toEqual([
      `campaign 12: content.steps[0].blocks[${n - 2}] countdown until "2026-12-24T23:59:59" has no UTC offset: it is read as each visitor's local time, not in the site's time zone: write it with one ("…Z" or "…+01:00")`,
      `campaign 12: content.steps[0].blocks[${n - 1}] countdown until "2026-12-24" has no UTC offset: it is read as midnight UTC, not in the site's time zone: write it with one ("…Z" or "…+01:00")`,
      `campaign 12: variants[0].content.steps[0].blocks[0] countdown until "2026-12-24T23:59:59" has no UTC offset: it is read as each visitor's local time, not in the site's time zone: write it with one ("…Z" or "…+01:00")`,
    ]);
  });

  it('says nothing of one with Z or an offset', () => {
    expect(campaignWarnings(withUntil('2026-12-24T23:59:59Z', '2026-12-24T23:59:59+01:00', '2026-12-24T23:59:59-0500'), ctx)).toEqual([]);
  });
});

describe('dates that are not days of the calendar', () => {
  it('warns with the path and what Chromium reads instead, wherever the date is; says nothing of real days', () => {
    const c = withKeys((c) => {
      c.schedule = { start: '2025-02-30', end: '2099-04-31T10:00:00Z' };
      c.targeting = { all: [{ type: 'property', key: 'lastPurchase', kind: 'date', op: 'before', value: '2024-02-29' }, { type: 'property', key: 'renewal', kind: 'date', op: 'after', value: '2025-02-29' }] };
    });
    expect(campaignWarnings(c, ctx).filter((w) => w.includes('calendar'))).toEqual([
      'campaign 12: schedule.start "2025-02-30" is not a day of the calendar (Chromium reads it as 2025-03-02; other browsers may refuse the campaign)',
      'campaign 12: schedule.end "2099-04-31T10:00:00Z" is not a day of the calendar (Chromium reads it as 2099-05-01; other browsers may refuse the campaign)',
      'campaign 12: targeting.all[1].value "2025-02-29" is not a day of the calendar (Chromium reads it as 2025-03-01; other browsers may refuse the campaign)',
    ]);
  });
});

describe('patterns of matches conditions', () => {
  const withRule = (targeting: unknown) => withKeys((c) => (c.targeting = targeting));
  const regexLines = (c: Campaign) => campaignWarnings(c, ctx).filter((w) => w.includes(' pattern "'));

  it('names a pattern V8 refuses, under any group, with the engine\'s reason', () => {
    const c = withRule({ any: [{ type: 'page', field: 'path', op: 'equals', value: '/a' }, { not: { type: 'page', field: 'url', op: 'not_matches', value: ['ok', 'a(b'] } }] });
    expect(regexLines(c)).toEqual([
      'campaign 12: targeting.any[1].not pattern "a(b" is not a valid regex (Invalid regular expression: /a(b/: Unterminated group): browsers turn this condition off',
    ]);
  });

  it('warns about several patterns that only fail together, or whose backreferences count across them', () => {
    const twice = withRule({ type: 'page', field: 'path', op: 'matches', value: ['^/(?<id>\\d+)$', '^/p/(?<id>\\d+)$'] });
    expect(regexLines(twice)).toEqual([]);
    expect(campaignWarnings(twice, ctx)).toContain(
      'campaign 12: targeting has 2 patterns, compiled as one regex, which some browsers refuse (a group name used twice?): put each pattern in a condition of its own, in an `any` group',
    );
    const backref = withRule({ all: [{ type: 'utm', field: 'utm_campaign', op: 'matches', value: ['^(x)', '^(a)\\1$'] }] });
    expect(campaignWarnings(backref, ctx)).toContain(
      'campaign 12: targeting.all[0] has 2 patterns, compiled as one regex, where a backreference counts the groups of all of them: put each pattern in a condition of its own, in an `any` group',
    );
    // The warning is true: in the browser's joined regex, `\1` is the first pattern's group.
    expect(new RegExp('(?:^(x))|(?:^(a)\\1$)').test('aa')).toBe(false);
    expect(new RegExp('^(a)\\1$').test('aa')).toBe(true);
    // One pattern with a backreference is compiled alone: nothing to say.
    expect(campaignWarnings(withRule({ type: 'page', field: 'path', op: 'matches', value: ['^/(a)\\1$'] }), ctx).filter((w) => w.includes('patterns'))).toEqual([]);
  });

  it('finds a group repeated without bound that repeats without bound inside, and nothing else', () => {
    const slow = ['(a+)+$', '^(\\w+\\s?)*$', '^(?:[a-z0-9]+\\.)+com$', '(x*y?)*z', '((ab)*c)+', '(a{2,})*', '(.+){1,20}x', '(?<w>\\d+)+!'];
    const fine = ['^/blog/', '(ab)+', '\\(a+\\)+', '[(a+)]+', '^(?:\\d{1,3}\\.){3}\\d{1,3}$', '(a+){2}', '(a+)?b', '(\\w+)-(\\d+)', '(a|b)*', '[\\]+(]+x*'];
    expect(slow.filter((p) => !nestedRepeat(p))).toEqual([]);
    expect(fine.filter(nestedRepeat)).toEqual([]);
    const c = withRule({ type: 'property', key: 'email', kind: 'string', op: 'matches', value: '^([a-z]+\\.?)+@example\\.com$' });
    expect(regexLines(c)).toEqual([
      'campaign 12: targeting pattern "^([a-z]+\\\\.?)+@example\\\\.com$" repeats a group that repeats itself: on a URL that nearly matches it can take seconds and freeze the page (catastrophic backtracking); repeat one of the two only',
    ]);
  });

  it('says nothing of literal operators, a sound pattern, or the demo campaigns', () => {
    const c = withRule({ all: [{ type: 'page', field: 'path', op: 'contains', value: '(a+)+' }, { type: 'language', op: 'matches', value: '^(fr|de)' }] });
    expect(regexLines(c)).toEqual([]);
    const demo = JSON.parse(readFileSync(join(import.meta.dirname, '../../demo/campaigns.json'), 'utf8')) as Campaign[];
    expect(demo.flatMap((d) => campaignWarnings(d, ctx)).filter((w) => w.includes('pattern'))).toEqual([]);
  });
});

describe('text colours too close to what they are drawn on', () => {
  const withStyle = (style: Record<string, unknown>, variantStyle?: Record<string, unknown>) =>
    withKeys((c) => {
      c.content.style = style;
      if (variantStyle) c.variants = [{ id: 'a', weight: 1, content: { ...clone(c.content), style: variantStyle } }, { id: 'b', weight: 1 }];
    });
  const lines = (c: Campaign) => campaignWarnings(c, ctx).filter((w) => w.includes('contrast'));

  it('warns for text the colour of its background, and for a pair the campaign half sets (the other colour its default), in a variant too', () => {
    expect(lines(withStyle({ color: '#fff', background: 'white' }, { background: '#111', accent: 'rgb(255 212 0)' }))).toEqual([
      'campaign 12: content.style text: color "#fff" on background "white" has a contrast of 1:1, under the 4.5:1 that WCAG AA asks of text: visitors may not be able to read it',
      'campaign 12: variants[0].content.style text: the default color #1a1a1a on background "#111" has a contrast of 1.08:1, under the 4.5:1 that WCAG AA asks of text: visitors may not be able to read it',
      'campaign 12: variants[0].content.style button labels: the default accentText #fff on accent "rgb(255 212 0)" has a contrast of 1.43:1, under the 4.5:1 that WCAG AA asks of text: visitors may not be able to read it',
    ]);
  });

  it('says nothing of readable colours, colours it cannot read (variables, names, transparency), or no style; the defaults pass as the README says', () => {
    expect(lines(withStyle({ color: '#fff', background: '#1a1a1a', accent: '#ffd400', accentText: '#000' }))).toEqual([]);
    expect(lines(withStyle({ color: 'var(--brand)', background: '#fff', accent: 'rebeccapurple', accentText: '#ffffff80' }))).toEqual([]);
    expect(lines(withStyle({ radius: 4 }))).toEqual([]);
    expect(lines(withKeys(() => {}))).toEqual([]);
    expect(contrast([0x1a, 0x1a, 0x1a], [255, 255, 255]).toFixed(1)).toBe('17.4');
    expect(contrast([255, 255, 255], [0x1f, 0x4f, 0xd1]).toFixed(1)).toBe('6.8');
    expect(contrast([0xb0, 0, 0x20], [255, 255, 255]).toFixed(1)).toBe('7.3');
  });

  it("checks against the defaults the UI chunk's stylesheet draws", () => {
    const css = readFileSync('src/sdk/render/styles.ts', 'utf8');
    for (const [key, colour] of Object.entries(DEFAULT_COLOURS)) expect(css, key).toContain(`var(--pl-${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())},${colour})`);
  });
});
