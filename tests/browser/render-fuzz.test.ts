// Fuzz in real Chromium: random campaigns the validator accepts (random blocks, layouts and styles,
// hostile text in every field, rich paragraphs from the attack grammar of tests/unit/fuzz/html.ts)
// shown on a page by the built UI chunk. Invariants: show() never throws and the page sees no
// error; no script runs; the shadow root holds only the renderer's own tags, no handler attribute,
// no script; a style value stays inside its declaration: the page outside keeps its computed style
// and no request leaves for anything but the test server's own files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright';
import { validateCampaign, type Campaign } from '../../src/shared/campaign';
import type { Block, Content } from '../../src/shared/campaign-content';
import { Rng, SEED } from '../unit/fuzz/gen';
import { HOSTILE_TEXT, richText, XSS } from '../unit/fuzz/html';
import { fixture, type Fixture, type W } from './render-fixture';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
  f.server.pages.set('/ok.png', { body: '', type: 'image/png' });
});
afterAll(() => f.close());

const TAGS = 'a b br button dialog div em form h2 i img input label option p path select span strong svg'.split(' ');

function text(r: Rng): string {
  const parts = [r.pick(HOSTILE_TEXT), r.pick(['Hi', 'x'.repeat(10_000), `<img src=x onerror=${XSS}>`, '{{', '${}', '\u202eRTL', ' x '])];
  return r.chance(0.3) ? parts.join('') : parts[r.int(2)] || 'x';
}

/** Style values that try to end their declaration, open a rule, or fetch. */
const CSS = [
  'red',
  '#123',
  'red;background:url(http://evil.invalid/a.png)',
  'red}</style><script>' + XSS + '</script>',
  'red} * {display:none} .x{',
  '} body { background: red !important }',
  'red !important; color: red',
  'expression(' + XSS + ')',
  '"Inter"; } @import url(http://evil.invalid/x.css); {',
  'var(--x, red',
  '/* unclosed',
  '\\;\\}',
  'red\n}\nbody{color:red}',
  "'",
  'x'.repeat(5000),
];

/** A block; `success`: one the success step may hold (no field, no next or submit). */
function block(r: Rng, i: number, success: boolean): Block {
  const name = 'n' + i;
  switch (r.int(success ? 8 : 12)) {
    case 0:
      return { type: 'heading', text: text(r) };
    case 1:
    case 2:
    case 3:
      return { type: 'paragraph', text: richText(r) || 'x', html: true };
    case 4:
      return { type: 'paragraph', text: text(r) };
    case 5:
      return { type: 'image', src: r.pick(['/ok.png', `/ok.png?"><img src=x onerror=${XSS}>`]), alt: text(r) };
    case 6:
      return { type: 'button', label: text(r), action: r.pick(success ? (['link', 'close'] as const) : (['link', 'close', 'next', 'submit'] as const)), href: r.pick(['https://example.com/', '/ok.png', `/ok.png#"><script>${XSS}</script>`]), newTab: r.chance(0.5) };
    case 7:
      return { type: 'countdown', until: r.pick(['2030-01-01T00:00:00Z', '2000-01-01T00:00:00Z']), label: text(r) };
    case 8:
      return { type: 'select', name, label: text(r), options: [text(r), text(r)], placeholder: text(r) };
    case 9:
    case 10:
      return { type: r.pick(['text', 'phone', 'number', 'checkbox', 'consent'] as const), name, label: text(r) } as Block;
    default:
      return { type: 'hidden', name, from: r.pick(['evil', 'utm_source', 'user.plan']) };
  }
}

function campaign(r: Rng, id: number): Campaign {
  let i = 0;
  const blocks = (success = false) => Array.from({ length: 1 + r.int(5) }, () => block(r, id * 100 + i++, success));
  const style: Record<string, unknown> = {};
  for (const k of ['background', 'color', 'accent', 'accentText', 'font', 'overlay']) if (r.chance(0.4)) style[k] = r.pick(CSS);
  if (r.chance(0.3)) style.radius = r.pick([0, 8, 1e9]);
  if (r.chance(0.3)) style.closeButton = r.pick(['icon', 'text', 'none']);
  const content: Content = {
    label: text(r),
    // A form needs its email field: the first step starts with it.
    steps: Array.from({ length: 1 + r.int(2) }, (_, s) => ({ blocks: [...(s ? [] : [{ type: 'email', label: text(r), placeholder: text(r), required: r.chance(0.5) } as Block]), ...blocks()] })),
    success: { blocks: blocks(true) },
    messages: r.chance(0.5) ? { close: text(r), noshow: text(r), error: text(r), required: text(r), email: text(r), choose: text(r) } : undefined,
    style: style as Content['style'],
  };
  return {
    id,
    name: 'fuzz',
    status: 'live',
    trigger: { type: 'landing' },
    layout: r.pick([{ type: 'popup' }, { type: 'fullscreen' }, { type: 'bar', position: 'top' }, { type: 'bar', position: 'bottom', push: true }, { type: 'slidein', position: 'top-left' }, { type: 'embed', selector: '#slot' }]),
    content,
  } as Campaign;
}

/** What the page outside the campaign looks like. */
const snapshot = (page: Page) =>
  page.evaluate(() =>
    ['html', 'body', 'main', 'h1', 'p', '#before'].map((s) => {
      const c = getComputedStyle(document.querySelector(s)!);
      return [c.color, c.backgroundColor, c.backgroundImage, c.display, c.visibility, c.fontFamily, c.fontSize].join();
    }),
  );

describe('fuzz: rendering random valid campaigns in Chromium', () => {
  const PAGES = 3;
  const PER_PAGE = 24;
  for (let p = 0; p < PAGES; p++)
    it(`page ${p}: no script runs, only the renderer's tags, styles stay in their declarations, no request leaves`, async () => {
      const r = new Rng(SEED + p * 104729);
      const { page, errors } = await f.open();
      const foreign: string[] = [];
      await page.context().route('**/*', (route) => {
        const u = route.request().url();
        if (u.startsWith(f.server.url)) return route.continue();
        foreign.push(u);
        return route.abort();
      });
      const before = await snapshot(page);
      let shown = 0;
      for (let n = 0; shown < PER_PAGE && n < PER_PAGE * 4; n++) {
        const c = campaign(r, p * 1000 + n + 1);
        const v = validateCampaign(c);
        if (!v.ok) continue;
        shown++;
        const where = `seed ${SEED} page ${p} campaign ${c.id}`;
        const thrown = await page.evaluate((c) => {
          try {
            (window as unknown as W).__show(c);
            return null;
          } catch (e) {
            return String(e);
          }
        }, c);
        expect(thrown, where).toBeNull();
        const audit = await page.evaluate(() => {
          const els = [...document.querySelectorAll('poplet-campaign')].flatMap((h) => [...h.shadowRoot!.querySelectorAll('*')]);
          return {
            tags: [...new Set(els.map((e) => e.localName))],
            handlers: els.flatMap((e) => [...e.attributes].filter((a) => /^on/i.test(a.name)).map((a) => e.localName + '@' + a.name)),
            hrefs: els.filter((e) => e.hasAttribute('href')).map((e) => new URL(e.getAttribute('href')!, location.href).protocol),
            outside: [...document.querySelectorAll('script:not([src]), style, link, iframe, img, svg')].length,
          };
        });
        expect(audit.tags.filter((t) => !TAGS.includes(t)), where).toEqual([]);
        expect(audit.handlers, where).toEqual([]);
        expect(audit.hrefs.filter((h) => !['http:', 'https:', 'mailto:'].includes(h)), where).toEqual([]);
        expect(audit.outside, where).toBe(0);
        await page.evaluate(() => (window as unknown as W).__shown.destroy());
      }
      await page.waitForTimeout(200);
      expect(shown).toBeGreaterThan(PER_PAGE / 2);
      expect(await page.evaluate(() => (window as unknown as W).__xss)).toBeUndefined();
      expect(errors).toEqual([]);
      expect(foreign).toEqual([]);
      expect(await snapshot(page)).toEqual(before);
      // The logs the fake host heard are only the expected ones (none of a render failure).
      const logs = (await page.evaluate(() => (window as unknown as W).__calls)).filter((c) => c[0] == 'log');
      expect(logs.filter((l) => !/not shown yet: hidden/.test(String(l[1])))).toEqual([]);
    });
});
