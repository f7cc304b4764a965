// Isolation and safety in real Chromium: a hostile stylesheet, a strict CSP, an XSS corpus.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright';
import type { Content, Layout } from '../../src/shared/campaign';
import { box, calls, campaign, fixture, LAYOUTS, NEWSLETTER, show, type Fixture, type W } from './render-fixture';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
  f.server.pages.set('/csp-listen.js', {
    type: 'text/javascript',
    body: `window.__violations = []; document.addEventListener('securitypolicyviolation', function (e) { __violations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')); });`,
  });
  f.server.pages.set('/site.css', { type: 'text/css', body: 'body { font-family: serif }' });
});
afterAll(() => f.close());

const violations = (page: Page) => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);

const HOSTILE = `<style>
* { all: unset !important; }
div { display: none !important; }
poplet-campaign { display: none !important; visibility: hidden !important; opacity: 0 !important; position: absolute !important; left: -9999px !important; }
.huge { position: fixed !important; inset: 0 !important; z-index: 2147483647 !important; display: block !important; background: rgb(255, 0, 0) !important; }
</style>`;

describe('hostile site CSS', () => {
  const layouts: Layout[] = [{ type: 'popup' }, { type: 'fullscreen' }, { type: 'bar', position: 'top' }, { type: 'slidein', position: 'bottom-right' }];
  for (const layout of layouts)
    it(`${JSON.stringify(layout)}: visible, on top of max z-index elements, usable`, async () => {
      const { page, errors } = await f.open({ head: HOSTILE, body: '<span class="huge">cover</span><main><h1>Page</h1><div id="slot"></div></main><span class="huge">cover 2</span>' });
      await show(page, campaign(layout));
      const r = (await box(page).boundingBox())!;
      expect(r.width).toBeGreaterThan(200);
      expect(r.height).toBeGreaterThan(100);
      // The topmost element at the centre of the campaign is the campaign (the host, retargeted).
      const top = await page.evaluate(([x, y]) => {
        const el = document.elementFromPoint(x, y)!;
        return [el.tagName, el.shadowRoot?.elementFromPoint(x, y)?.closest('.bx') != null];
      }, [r.x + r.width / 2, r.y + r.height / 2]);
      expect(top).toEqual(['POPLET-CAMPAIGN', true]);
      expect(await box(page).evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(255, 255, 255)');
      // Playwright's click checks the target receives the pointer event (not covered).
      await page.locator('poplet-campaign input[type=email]').fill('ada@example.com');
      await page.locator('poplet-campaign input[type=checkbox]').check();
      await page.locator('poplet-campaign button[type=submit]').click();
      await page.locator('poplet-campaign h2', { hasText: 'Thank you!' }).waitFor();
      await page.locator('poplet-campaign .x').click();
      await page.waitForFunction(() => !document.querySelector('poplet-campaign'));
      expect((await calls(page)).map((c) => c[0])).toEqual(['displayed', 'submit', 'closed']);
      expect(errors).toEqual([]);
    });

  it('the popup CSS does not leak into the page', async () => {
    const { page } = await f.open({ body: '<main><h2 id="h">Site heading</h2><p>Para</p><button class="b x">Site button</button><form class="st"><label>L <input class="in"></label></form></main>' });
    const snap = () =>
      page.evaluate(() =>
        ['#h', 'p', 'button', 'label', 'input', 'form'].map((s) => {
          const c = getComputedStyle(document.querySelector(s)!);
          return [c.fontSize, c.color, c.backgroundColor, c.margin, c.padding, c.display, c.position, c.borderRadius].join();
        }),
      );
    const before = await snap();
    await show(page, campaign({ type: 'embed', selector: 'main' }));
    await show(page, campaign({ type: 'popup' }));
    expect(await snap()).toEqual(before);
  });
});

describe('strict Content-Security-Policy', () => {
  const csp = (origin: string, style = "'self'") =>
    `default-src 'none'; script-src ${origin}; style-src ${style}; img-src ${origin}; connect-src ${origin}; base-uri 'none'; form-action 'none'`;

  it('every layout, every state: zero violations, styles applied', async () => {
    const { page, errors } = await f.open({
      headers: { 'content-security-policy': csp(f.server.url) },
      head: '<script src="/csp-listen.js"></script><link rel="stylesheet" href="/site.css">',
    });
    for (const [i, layout] of LAYOUTS.entries()) {
      await show(page, campaign(layout, NEWSLETTER, i + 1));
      const b = box(page).last();
      expect(await b.evaluate((el) => getComputedStyle(el).borderTopWidth + ' ' + getComputedStyle(el).paddingTop)).toMatch(/px 1\dpx|px 46px|px 10px/);
      await page.locator('poplet-campaign button[type=submit]').last().click();
      await page.locator('poplet-campaign input[type=email]').last().fill('ada@example.com');
      await page.locator('poplet-campaign input[type=checkbox]').last().check();
      await page.locator('poplet-campaign button[type=submit]').last().click();
      await page.locator('poplet-campaign h2', { hasText: 'Thank you!' }).last().waitFor();
      await page.evaluate(() => (window as unknown as W).__shown.destroy());
    }
    expect(await violations(page)).toEqual([]);
    // The listener does see violations: an inline style attribute is blocked and reported.
    await page.evaluate(() => (document.body.insertAdjacentHTML('beforeend', '<p style="color:red">x</p>')));
    await page.waitForFunction(() => (window as unknown as { __violations: string[] }).__violations.length > 0);
    expect((await violations(page))[0]).toMatch(/^style-src-attr/);
    expect(errors.filter((e) => !/Content Security Policy/.test(e))).toEqual([]);
  });

  it('without constructable stylesheets, falls back to <style nonce> and still has zero violations', async () => {
    const nonce = 'n0nceV4lue';
    const { page } = await f.open({
      headers: { 'content-security-policy': csp(f.server.url, `'nonce-${nonce}'`) },
      head: '<script src="/csp-listen.js"></script>',
    });
    await page.evaluate(() => {
      // An engine without constructable stylesheets.
      (CSSStyleSheet.prototype as { replaceSync?: unknown }).replaceSync = undefined;
    });
    // The chunk caches its sheet: load a fresh copy of it after removing the API.
    await page.evaluate((src) => new Promise((ok) => {
      const s = document.createElement('script');
      s.src = src + '?fresh';
      s.onload = ok;
      document.head.appendChild(s);
    }), '/dist/poplet.ui.js');
    await show(page, campaign({ type: 'popup' }), nonce);
    expect(await page.evaluate(() => document.querySelector('poplet-campaign')!.shadowRoot!.querySelector('style')!.nonce)).toBe(nonce);
    expect(await box(page).evaluate((el) => getComputedStyle(el).position + ' ' + getComputedStyle(el).backgroundColor)).toBe('relative rgb(255, 255, 255)');
    expect(await violations(page)).toEqual([]);
  });
});

const X = 'window.__xss=true';
const CORPUS = [
  `<img src=x onerror="${X}">`,
  `<script>${X}</script>`,
  `<svg onload="${X}"><circle r=9></svg>`,
  `<svg><script>${X}</script></svg>`,
  `"><img src=x onerror=${X}>`,
  `<iframe srcdoc="<script>parent.__xss=true</script>"></iframe>`,
  `<a href="javascript:${X}">js link</a>`,
  `<a href="jav&#x09;ascript:${X}">tab link</a>`,
  `<a href=" JAVASCRIPT:${X}">upper link</a>`,
  `<a href="data:text/html,<script>${X}</script>">data link</a>`,
  `<b onmouseover="${X}">hover me</b>`,
  `<a href="https://example.com" onclick="${X}">good link, bad handler</a>`,
  `<math><mtext><table><mglyph><style><img src=x onerror="${X}">`,
  `<details open ontoggle="${X}">`,
  `&lt;img src=x onerror="${X}"&gt;`,
  `<style>@import url("javascript:${X}")</style>`,
  `{{constructor.constructor('${X}')()}}`,
];

describe('XSS corpus', () => {
  it('campaign text, rich text, labels, options, messages and properties never run script', async () => {
    const { page, errors } = await f.open();
    await page.context().route('https://example.com/**', (r) => r.fulfill({ body: 'ok' }));
    const all = CORPUS.join(' | ');
    const content: Content = {
      label: all,
      steps: [
        {
          blocks: [
            { type: 'heading', text: all },
            { type: 'paragraph', text: all },
            ...CORPUS.map((text) => ({ type: 'paragraph' as const, text, html: true })),
            { type: 'image', src: 'https://example.com/a.png', alt: all },
            { type: 'email', label: all, placeholder: all, required: true },
            { type: 'text', name: 'n', label: all, placeholder: all },
            { type: 'select', name: 's', label: all, options: CORPUS },
            { type: 'consent', label: all },
            { type: 'hidden', name: 'h', from: 'evil' },
            { type: 'button', label: all, action: 'submit' },
          ],
        },
      ],
      success: { blocks: [{ type: 'heading', text: all }] },
      messages: { required: all, email: all, error: all, noshow: all, close: all },
    };
    await page.evaluate((v) => ((window as unknown as { __ctx: { props: Record<string, unknown> } }).__ctx.props.evil = v), all);
    await show(page, campaign({ type: 'popup' }, content));
    const root = page.locator('poplet-campaign');
    // Nothing executable was created: no script, iframe, img except the campaign image, no
    // on* attributes, no javascript: or data: links.
    const audit = await page.evaluate(() => {
      const els = [...document.querySelector('poplet-campaign')!.shadowRoot!.querySelectorAll('*')];
      return {
        tags: [...new Set(els.map((e) => e.tagName.toLowerCase()))].sort(),
        handlers: els.flatMap((e) => [...e.attributes].filter((a) => /^on/i.test(a.name)).map((a) => a.name)),
        hrefs: els.filter((e) => e.hasAttribute('href')).map((e) => e.getAttribute('href')),
        imgs: els.filter((e) => e.tagName == 'IMG').map((e) => e.getAttribute('src')),
      };
    });
    expect(audit.tags.filter((t) => !'a b button dialog div form h2 img input label option p path select span svg'.split(' ').includes(t))).toEqual([]);
    expect(audit.handlers).toEqual([]);
    expect(audit.hrefs).toEqual(['https://example.com']);
    expect(audit.imgs).toEqual(['https://example.com/a.png']);
    // The markup is shown as text.
    expect(await root.locator('h2').first().textContent()).toBe(all);
    expect(await root.locator('p').nth(1).textContent()).toBe(CORPUS[0]);

    // Interact with everything that could fire a handler.
    await root.locator('b', { hasText: 'hover me' }).hover();
    for (const l of await root.locator('p a').all()) {
      const [p] = await Promise.all([page.waitForEvent('popup'), l.click()]);
      await p.close();
    }
    await root.locator('select').selectOption({ index: 3 });
    // Errors echo the messages as text.
    await root.locator('button[type=submit]').click();
    await root.locator('input[type=email]').fill(CORPUS[0].replace('<', 'a@b.co<'));
    await root.locator('input[name=n]').fill(CORPUS[1]);
    await root.locator('input[type=email]').fill('ada@example.com');
    await root.locator('button[type=submit]').click();
    await root.locator('h2').first().waitFor();
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as W).__xss)).toBeUndefined();
    const sub = (await calls(page)).find((c) => c[0] == 'submit')!;
    expect(sub[2]).toMatchObject({ email: 'ada@example.com', n: CORPUS[1], h: all });
    expect(errors).toEqual([]);
    // Control: the same payload parsed as HTML does run, so the flag would have caught a leak.
    await page.evaluate((html) => document.body.insertAdjacentHTML('beforeend', html), CORPUS[0]);
    await page.waitForFunction(() => (window as unknown as W).__xss === true);
  });

  it('a javascript: link button is not drawn, even if it got past the server validator', async () => {
    const { page, errors } = await f.open();
    const content: Content = { label: 'x', steps: [{ blocks: [{ type: 'heading', text: 'Hi' }, { type: 'button', label: 'Go', action: 'link', href: ` javascript:${X}` }] }], success: { blocks: [] } };
    await show(page, campaign({ type: 'popup' }, content));
    expect(await page.locator('poplet-campaign h2').textContent()).toBe('Hi');
    expect(await page.locator('poplet-campaign a').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as W).__xss)).toBeUndefined();
    expect(errors).toEqual([]);
  });
});

describe('rich text nested far deeper than any real content', () => {
  it('2,000 levels deep: shown (nested no deeper than the HTML parser would), not dropped for a stack overflow', async () => {
    const { page, errors } = await f.open();
    const text = '<b><i>'.repeat(1000) + 'deep' + '</i></b>'.repeat(1000);
    await show(page, campaign({ type: 'popup' }, { label: 'x', steps: [{ blocks: [{ type: 'paragraph', text, html: true }] }], success: { blocks: [] } }));
    expect(await calls(page)).toEqual([['displayed', 7]]);
    expect(await page.locator('poplet-campaign p').first().textContent()).toMatch(/^deep/);
    expect(errors).toEqual([]);
  });
});

describe('a page that added enumerable keys to Object.prototype', () => {
  it('no inherited key becomes a style variable, a field error or an entity', async () => {
    // A legacy library's method, and a polluted value.
    const head = `<script>Object.prototype.clone = function () { return 1; }; Object.prototype.accent = 'rgb(255, 0, 0)';</script>`;
    const { page, errors } = await f.open({ head });
    const content: Content = {
      ...NEWSLETTER,
      steps: [
        {
          blocks: [
            { type: 'paragraph', text: 'a &clone; b &constructor;', html: true },
            { type: 'email', label: 'Email' },
            { type: 'text', name: 'toString', label: 'A' },
            { type: 'text', name: 'clone', label: 'B' },
            { type: 'button', label: 'Go', action: 'submit' },
          ],
        },
      ],
      style: { radius: 3 },
    };
    await show(page, campaign({ type: 'popup' }, content));
    const style = await page.locator('poplet-campaign .r').getAttribute('style');
    expect(style).toContain('--pl-radius: 3px');
    expect(style).not.toMatch(/clone|accent/);
    expect(await page.locator('poplet-campaign [aria-invalid]').count()).toBe(0);
    expect(await page.locator('poplet-campaign p').first().textContent()).toBe('a &clone; b &constructor;');
    await page.locator('poplet-campaign input[type=email]').fill('ada@example.com');
    await page.locator('poplet-campaign button[type=submit]').click();
    await page.locator('poplet-campaign h2', { hasText: 'Thank you!' }).waitFor();
    expect((await calls(page)).find((c) => c[0] == 'submit')![2]).toEqual({ email: 'ada@example.com' });
    expect(errors).toEqual([]);
  });
});

describe('character references in rich text', () => {
  const rich = (text: string): Content => ({ label: 'Offer', steps: [{ blocks: [{ type: 'paragraph', text, html: true }] }], success: { blocks: [] } });
  const TEXT = 'Caf&eacute; &copy; 2026 &ndash; <b>&euro;5</b> &hellip; &#128; &AMP; &amp; &lt;i&gt; &#65; &bogus;';
  const paragraph = (page: Page) => page.locator('poplet-campaign p').first().textContent();

  it("read as the browser reads them in HTML: every named one, numeric ones with HTML's own mapping", async () => {
    const { page, errors } = await f.open();
    await show(page, campaign({ type: 'popup' }, rich(TEXT)));
    expect(await paragraph(page)).toBe('Café © 2026 – €5 … € & & <i> A &bogus;');
    expect(await page.locator('poplet-campaign b').textContent()).toBe('€5');
    expect(errors).toEqual([]);
  });

  it('on a page enforcing Trusted Types with a default policy for script URLs only: one refusal, then numeric ones and the basic named ones still read right', async () => {
    const { page, errors } = await f.open({
      headers: { 'content-security-policy': "require-trusted-types-for 'script'; trusted-types default" },
      head: '<script src="/csp-listen.js"></script>',
    });
    await page.evaluate(() => (window as unknown as { trustedTypes: { createPolicy(n: string, p: object): unknown } }).trustedTypes.createPolicy('default', { createScriptURL: (u: string) => u }));
    await show(page, campaign({ type: 'popup' }, rich(TEXT)));
    expect(await paragraph(page)).toBe('Caf&eacute; &copy; 2026 &ndash; &euro;5 &hellip; \x80 & & <i> A &bogus;');
    // The refusal was the browser's, as the policy says, and the first only: the textarea is not
    // tried again. Nothing reached the page.
    expect((await violations(page)).length).toBe(1);
    await show(page, campaign({ type: 'popup' }, rich(TEXT)));
    expect((await violations(page)).length).toBe(1);
    // The browser's own console line about it; nothing from the page or Poplet.
    expect(errors).toEqual([expect.stringContaining("requires 'TrustedHTML' assignment")]);
  });
});

// The UI build shortens Preact's internal property names too (internal-keys.ts), and Preact keeps
// one of them on the element it renders into: the name esbuild picks must be a key of Preact's
// own, not a property the dialog or the div already has (set, it would run the element's setter
// and read back something else: the campaign could then not be drawn anew or taken down).
describe("Preact's key on the element a campaign is rendered into", () => {
  for (const layout of [{ type: 'popup' }, { type: 'slidein', position: 'bottom-right' }] as Layout[])
    it(`${layout.type}: a key of its own, read back to take the campaign down`, async () => {
      const { page, errors } = await f.open();
      await show(page, campaign(layout));
      const own = await page.evaluate(() => {
        const mount = [...document.querySelector('poplet-campaign')!.shadowRoot!.children].find((e) => /^(DIALOG|DIV)$/.test(e.tagName))!;
        (window as unknown as { __mount: Element }).__mount = mount;
        return Object.keys(mount).map((k) => [mount.tagName, k, k in document.createElement(mount.tagName)]);
      });
      expect(own).toEqual([[layout.type == 'popup' ? 'DIALOG' : 'DIV', expect.any(String), false]]);
      await page.evaluate(() => (window as unknown as W).__shown.destroy());
      expect(await page.evaluate(() => (window as unknown as { __mount: Element }).__mount.childNodes.length)).toBe(0);
      expect(await calls(page)).toEqual([['displayed', 7]]);
      expect(errors).toEqual([]);
    });
});
