// Every layout in real Chromium: placement, roles, axe-core, responsive sheet, push bars, close.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright';
import { resolve } from 'node:path';
import type { Content, Layout } from '../../src/shared/campaign';
import { box, calls, campaign, fixture, LAYOUTS, NEWSLETTER, show, type Fixture, type W } from './render-fixture';

const AXE = resolve(import.meta.dirname, '../../node_modules/axe-core/axe.min.js');
let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});
afterAll(() => f.close());

describe('layouts', () => {
  for (const layout of LAYOUTS) {
    const name = JSON.stringify(layout);
    it(`${name}: renders, passes axe, closes`, async () => {
      const { page, errors } = await f.open();
      await show(page, campaign(layout));
      const b = box(page);
      await expect(b.isVisible()).resolves.toBe(true);
      const modal = layout.type == 'popup' || layout.type == 'fullscreen';
      // A modal is a <dialog> opened with showModal(), the page behind it inert; other layouts are regions.
      const labelled = modal ? page.locator('poplet-campaign dialog') : b;
      expect(await b.getAttribute('role')).toBe(modal ? null : 'region');
      expect(await labelled.getAttribute('aria-label')).toBe('Newsletter sign-up');
      expect(await labelled.evaluate((e) => e.matches(':modal'))).toBe(modal);
      expect(await page.locator('poplet-campaign h2').textContent()).toBe('Get 10% off');

      const r = (await b.boundingBox())!;
      const vw = 1280;
      const vh = 800;
      if (layout.type == 'popup') {
        expect(Math.abs(r.x + r.width / 2 - vw / 2)).toBeLessThan(2);
        expect(r.width).toBeLessThanOrEqual(440);
      } else if (layout.type == 'fullscreen') expect(r).toMatchObject({ x: 0, y: 0, width: vw, height: vh });
      else if (layout.type == 'bar') {
        expect(r.width).toBe(vw);
        expect(layout.position == 'top' ? r.y : r.y + r.height).toBe(layout.position == 'top' ? 0 : vh);
      } else if (layout.type == 'slidein') {
        expect(r.width).toBeLessThanOrEqual(360);
        expect(layout.position == 'top-left' ? r.x : vw - r.x - r.width).toBe(16);
        expect(layout.position == 'top-left' ? r.y : vh - r.y - r.height).toBe(16);
      } else {
        const slot = (await page.locator('#slot').boundingBox())!;
        expect(r.y).toBeGreaterThanOrEqual(slot.y);
        expect(await page.locator('#slot > poplet-campaign').count()).toBe(1);
      }

      await page.addScriptTag({ path: AXE });
      const { violations } = await page.evaluate(() => (window as unknown as W).axe.run(document, { resultTypes: ['violations'] }));
      expect(violations.map((v) => `${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`)).toEqual([]);

      await page.locator('poplet-campaign .x').click();
      await page.waitForFunction(() => !document.querySelector('poplet-campaign'));
      expect((await calls(page)).map((c) => c[0])).toEqual(['displayed', 'closed']);
      expect(errors).toEqual([]);
    });
  }

  it('passes axe on the error and success states', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'popup' }));
    await page.locator('poplet-campaign button[type=submit]').click();
    await page.addScriptTag({ path: AXE });
    const run = () => page.evaluate(() => (window as unknown as W).axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => v.id)));
    expect(await page.locator('poplet-campaign [aria-invalid=true]').count()).toBe(2);
    expect(await run()).toEqual([]);
    await page.locator('poplet-campaign input[type=email]').fill('a@b.co');
    await page.locator('poplet-campaign input[type=checkbox]').check();
    await page.locator('poplet-campaign button[type=submit]').click();
    await page.locator('poplet-campaign h2', { hasText: 'Thank you!' }).waitFor();
    expect(await run()).toEqual([]);
  });

  it('small screens: the popup is a full-width bottom sheet, slide-ins are full width', async () => {
    const { page } = await f.open({ viewport: { width: 375, height: 667 } });
    await show(page, campaign({ type: 'popup' }));
    const r = (await box(page).boundingBox())!;
    expect(r).toMatchObject({ x: 0, width: 375 });
    expect(r.y + r.height).toBe(667);
    await page.evaluate(() => (window as unknown as W).__shown.destroy());
    await show(page, campaign({ type: 'slidein', position: 'bottom-left' }));
    const s = (await box(page).boundingBox())!;
    expect(s).toMatchObject({ x: 0, width: 375 });
    expect(s.y + s.height).toBe(667);
  });

  it("small screens: a slide-in's sheet rounds the corners that face the page, square against the screen's edge; a bar stays square", async () => {
    const { page } = await f.open({ viewport: { width: 375, height: 667 } });
    const radii: Record<string, string> = {};
    for (const layout of [{ type: 'slidein', position: 'top-right' }, { type: 'slidein', position: 'bottom-left' }, { type: 'popup' }, { type: 'bar', position: 'top' }] as Layout[]) {
      await show(page, campaign(layout));
      radii[JSON.stringify(layout)] = await box(page).evaluate((el) => getComputedStyle(el).borderRadius);
      await page.evaluate(() => (window as unknown as W).__shown.destroy());
    }
    expect(radii).toEqual({
      '{"type":"slidein","position":"top-right"}': '0px 0px 12px 12px',
      '{"type":"slidein","position":"bottom-left"}': '12px 12px 0px 0px',
      '{"type":"popup"}': '12px 12px 0px 0px',
      '{"type":"bar","position":"top"}': '0px',
    });
  });

  it('full screen: content taller than a small viewport starts at the top and scrolls to the end; short content is centred', async () => {
    const blocks: Content['steps'][0]['blocks'] = [{ type: 'heading', text: 'Top heading' }, { type: 'paragraph', text: 'Intro text' }];
    for (let i = 0; i < 6; i++) blocks.push({ type: 'text', name: 'f' + i, label: 'Field ' + i });
    blocks.push({ type: 'email', label: 'Email', required: true }, { type: 'button', label: 'Go', action: 'submit' });
    const tall: Content = { ...NEWSLETTER, steps: [{ blocks }] };
    const { page } = await f.open({ viewport: { width: 375, height: 560 } });
    await show(page, campaign({ type: 'fullscreen' }, tall));
    const at = (sel: string) => page.locator('poplet-campaign ' + sel).first().evaluate((e) => e.getBoundingClientRect().toJSON() as DOMRect);
    const scroller = box(page);
    expect(await scroller.evaluate((e) => e.scrollHeight > e.clientHeight)).toBe(true);
    await scroller.evaluate((e) => (e.scrollTop = 0));
    // The heading is on screen below the close button, not above the scroll origin.
    const h2 = await at('h2');
    const x = await at('.x');
    expect(h2.top).toBeGreaterThanOrEqual(x.bottom - 16);
    expect(h2.top).toBeLessThan(560);
    // The close button covers no field.
    const first = await at('.fd');
    expect(x.bottom <= first.top || x.left >= first.right).toBe(true);
    // The end is reachable: the "don't show" link, last in the box, can be scrolled into view.
    await scroller.evaluate((e) => (e.scrollTop = e.scrollHeight));
    const ns = await at('.ns');
    expect(ns.bottom).toBeLessThanOrEqual(560);
    expect(ns.top).toBeGreaterThanOrEqual(0);

    const big = await f.open({ viewport: { width: 1280, height: 800 } });
    await show(big.page, campaign({ type: 'fullscreen' }));
    const form = await big.page.locator('poplet-campaign .st').evaluate((e) => e.getBoundingClientRect().toJSON() as DOMRect);
    const link = await big.page.locator('poplet-campaign .ns').evaluate((e) => e.getBoundingClientRect().toJSON() as DOMRect);
    // Form and link centred as one group: as much room above the form as below the link.
    expect(Math.abs(form.top - (800 - link.bottom))).toBeLessThan(40);
  });

  it('a push bar pads the page by its height and restores it on destroy', async () => {
    const { page } = await f.open({ head: '<style>body{margin:0;padding-top:5px}</style>' });
    await show(page, campaign({ type: 'bar', position: 'top', push: true }));
    const h = (await box(page).boundingBox())!.height;
    const pad = () => page.evaluate(() => getComputedStyle(document.body).paddingTop);
    expect(parseFloat(await pad())).toBeCloseTo(5 + h, 0);
    // The h1 starts below the bar instead of under it.
    expect((await page.locator('h1').boundingBox())!.y).toBeGreaterThanOrEqual(h);
    await page.evaluate(() => (window as unknown as W).__shown.destroy());
    expect(await pad()).toBe('5px');
    expect(await page.evaluate(() => document.body.getAttribute('style'))).toBeFalsy();
    expect((await calls(page)).map((c) => c[0])).toEqual(['displayed']);
  });

  /**
   * On a page whose own `scroll-padding-top` is 7px, a campaign `extent` px deep at the top (or
   * bottom) edge pads that edge by it, on top of the page's own, and leaves the other alone; once
   * it is gone, the page's value is back and the root carries no style of ours.
   */
  async function expectEdgePadding(page: Page, atTop: boolean, extent: number) {
    const padding = () => page.evaluate(() => [getComputedStyle(document.documentElement).scrollPaddingTop, getComputedStyle(document.documentElement).scrollPaddingBottom]);
    const [top, bottom] = await padding();
    expect(parseFloat(atTop ? top : bottom)).toBeCloseTo(atTop ? 7 + extent : extent, 0);
    expect(atTop ? bottom : top).toBe(atTop ? 'auto' : '7px');
    await page.evaluate(() => (window as unknown as W).__shown.destroy());
    expect(await padding()).toEqual(['7px', 'auto']);
    expect(await page.evaluate(() => document.documentElement.getAttribute('style'))).toBeFalsy();
  }

  /**
   * Tabs through the links #l0…#l39 (forward from the page's start, or `back` from #l39) and gives
   * the ids of those the campaign's box covered once focused: `whole` (hidden entirely) or `any
   * part` of them.
   */
  async function tabbedUnder(page: Page, back: boolean, covered: 'whole' | 'any part'): Promise<string[]> {
    if (back) await page.locator('#l39').focus();
    const ids: string[] = [];
    for (let i = 0; i < 38; i++) {
      await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
      ids.push(
        ...(await page.evaluate((whole) => {
          const a = document.activeElement!;
          const r = a.getBoundingClientRect();
          const b = document.querySelector('poplet-campaign')!.shadowRoot!.querySelector('.bx')!.getBoundingClientRect();
          const under = whole ? r.top >= b.top && r.bottom <= b.bottom : r.bottom > b.top && r.top < b.bottom && r.right > b.left && r.left < b.right;
          return a.id && under ? [a.id] : [];
        }, covered == 'whole')),
      );
    }
    return ids;
  }

  it('what the visitor tabs to is scrolled out from under a bar (WCAG 2.4.11), with the page\'s own scroll padding kept', async () => {
    const links = Array.from({ length: 40 }, (_, i) => `<p style="margin:0 0 40px"><a href="#l${i}" id="l${i}">Link ${i}</a></p>`).join('');
    for (const bar of [{ type: 'bar', position: 'bottom' }, { type: 'bar', position: 'top', push: true }] as const) {
      const { page } = await f.open({ head: '<style>html{scroll-padding-top:7px}</style>', body: `<main>${links}</main>` });
      await show(page, campaign(bar));
      const h = (await box(page).boundingBox())!.height;
      // Forward through the page under a bottom bar, backward from its end under a top bar (the
      // page's very top, at scroll 0, can only be uncovered by pushing it).
      const back = bar.position == 'top';
      expect(await tabbedUnder(page, back, 'whole')).toEqual([]);
      await expectEdgePadding(page, back, h);
    }
  });

  it('what the visitor tabs to is scrolled out from under a slide-in (WCAG 2.4.11): a corner card on a desktop, the full width on a phone', async () => {
    // Links at the right, where a desktop's bottom-right card sits; a phone's top slide-in covers
    // the whole width. Room above and below them: a card taller than what is left of the page at
    // its end (or its start) has nothing to scroll it out from under.
    const room = '<div style="height:800px"></div>';
    const links = room + Array.from({ length: 40 }, (_, i) => `<p style="margin:0 0 40px;text-align:right"><a href="#l${i}" id="l${i}">Link ${i}</a></p>`).join('') + room;
    for (const [position, viewport] of [['bottom-right', { width: 1280, height: 800 }], ['top-left', { width: 375, height: 667 }]] as const) {
      const { page } = await f.open({ head: '<style>html{scroll-padding-top:7px}</style>', body: `<main>${links}</main>`, viewport });
      await show(page, campaign({ type: 'slidein', position }));
      // Its extent from the edge, the 16 px from the screen's edge of a desktop's card included.
      const r = (await box(page).boundingBox())!;
      const top = position == 'top-left';
      const extent = top ? r.y + r.height : viewport.height - r.y;
      expect(await tabbedUnder(page, top, 'any part')).toEqual([]);
      await expectEdgePadding(page, top, extent);
    }
  });

  /** The boxes on screen, by layout, and what the page around them carries at `edge`. */
  const edgeState = (page: Page, edge: 'top' | 'bottom') =>
    page.evaluate((edge) => {
      const rects: Record<string, DOMRect> = {};
      for (const e of document.querySelectorAll('poplet-campaign')) {
        const r = e.shadowRoot!.querySelector('.r')!;
        rects[r.classList[1]] = r.firstElementChild!.getBoundingClientRect().toJSON() as DOMRect;
      }
      const root = getComputedStyle(document.documentElement);
      return { rects, pad: parseFloat(root.getPropertyValue('scroll-padding-' + edge)), push: getComputedStyle(document.body).getPropertyValue('padding-' + edge), other: root.getPropertyValue('scroll-padding-' + (edge == 'top' ? 'bottom' : 'top')), height: innerHeight };
    }, edge);

  it('a bar and a slide-in at one edge stack: the slide-in beside the bar, following its height, back at the edge once it goes; the scroll padding covers both', async () => {
    // Long enough to wrap onto more lines on a narrower screen.
    const offer: Content = { label: 'Offer', steps: [{ blocks: [{ type: 'paragraph', text: 'Free shipping on every order over 50 euros, this week only, on everything in the shop' }, { type: 'button', label: 'Shop now', action: 'close' }] }], success: { blocks: [] } };
    for (const edge of ['bottom', 'top'] as const) {
      for (const [viewport, narrower] of [[{ width: 1280, height: 480 }, 800], [{ width: 375, height: 540 }, 320]] as const) {
        for (const barFirst of [true, false]) {
          const what = `${edge} ${viewport.width} px, ${barFirst ? 'bar' : 'slide-in'} closed first`;
          const { page } = await f.open({ head: `<style>html{scroll-padding-${edge}:7px}body{margin:0;padding-${edge}:5px}</style>`, viewport });
          // A top bar pushes the page, a bottom one covers it.
          await show(page, campaign({ type: 'bar', position: edge, push: edge == 'top' }, offer, 1));
          await page.evaluate(() => ((window as unknown as { __bar: unknown }).__bar = (window as unknown as W).__shown));
          await show(page, campaign({ type: 'slidein', position: `${edge}-left` }, NEWSLETTER, 2));
          const state = () => edgeState(page, edge);
          // The gap of a desktop's card to the edge and to the bar; a phone's sheet has none.
          const gap = viewport.width > 600 ? 16 : 0;
          /** Its extent from the screen's edge. */
          const from = (r: DOMRect, height: number) => (edge == 'top' ? r.bottom : height - r.top);
          const stacked = async () => {
            const { rects, pad, push, other: o, height } = await state();
            const { bar, slidein: card } = rects;
            // Apart, the card beside the bar's inner edge, the whole card on screen (on a short
            // one it gives up height, its gap to the far edge kept).
            expect(bar.bottom <= card.top || card.bottom <= bar.top, what).toBe(true);
            expect(edge == 'top' ? card.top - bar.bottom : bar.top - card.bottom, what).toBeCloseTo(gap, 0);
            expect(Math.min(card.top, height - card.bottom), what).toBeGreaterThanOrEqual(gap - 0.5);
            // The bar's extent plus the card's (its gap included), on top of the page's own.
            expect(pad, what).toBeCloseTo(7 + from(card, height), 0);
            expect(pad, what).toBeCloseTo(7 + bar.height + card.height + gap, 0);
            expect(o, what).toBe('auto');
            // A push bar pads the body by its own height alone.
            expect(parseFloat(push), what).toBeCloseTo(edge == 'top' ? 5 + bar.height : 5, 0);
            return bar.height;
          };
          const tall = await stacked();
          // The bar wraps onto more lines on a narrower screen: the card follows it.
          await page.setViewportSize({ width: narrower, height: viewport.height });
          await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
          expect(await stacked(), what).toBeGreaterThan(tall);
          // One closes (its close button), the other then has the edge to itself.
          await page.locator(`poplet-campaign .${barFirst ? 'bar' : 'slidein'} .x`).click();
          await page.waitForFunction(() => document.querySelectorAll('poplet-campaign').length == 1);
          const { rects, pad, push, height } = await state();
          const left = barFirst ? rects.slidein : rects.bar;
          expect(from(left, height), what).toBeCloseTo(left.height + (barFirst ? gap : 0), 0);
          expect(pad, what).toBeCloseTo(7 + from(left, height), 0);
          expect(parseFloat(push), what).toBeCloseTo(edge == 'top' && !barFirst ? 5 + left.height : 5, 0);
          // The other goes with the page view: the site's own values are back, no style of ours left.
          await page.evaluate((barFirst) => (window as unknown as Record<string, { destroy(): void }>)[barFirst ? '__shown' : '__bar'].destroy(), barFirst);
          const end = await state();
          expect(end.rects, what).toEqual({});
          expect(end, what).toMatchObject({ pad: 7, push: '5px', other: 'auto' });
          expect(await page.evaluate(() => document.documentElement.getAttribute('style') || document.body.getAttribute('style')), what).toBeFalsy();
          await page.context().close();
        }
      }
    }
  });

  it('modals lock page scroll while open; bars and slide-ins do not', async () => {
    const { page } = await f.open();
    const overflow = () => page.evaluate(() => getComputedStyle(document.documentElement).overflow);
    await show(page, campaign({ type: 'popup' }));
    expect(await overflow()).toBe('hidden');
    await page.keyboard.press('Escape');
    expect(await overflow()).toBe('visible');
    await page.waitForFunction(() => !document.querySelector('poplet-campaign'));
    await show(page, campaign({ type: 'slidein', position: 'bottom-right' }));
    expect(await overflow()).toBe('visible');
  });

  it('content.style sets the custom properties; closeButton text and none; noshowLink false', async () => {
    const { page } = await f.open();
    const c = campaign({ type: 'popup' }, {
      label: 'Styled',
      steps: [{ blocks: [{ type: 'heading', text: 'Hi' }] }],
      success: { blocks: [] },
      style: { background: 'rgb(10, 20, 30)', color: 'rgb(250, 250, 250)', radius: 3, width: 300, closeButton: 'text', font: 'serif' },
      messages: { close: 'Fermer' },
      noshowLink: false,
    });
    await show(page, c);
    const css = await box(page).evaluate((el) => {
      const s = getComputedStyle(el);
      return [s.backgroundColor, s.color, s.borderTopLeftRadius, s.maxWidth, s.fontFamily];
    });
    expect(css).toEqual(['rgb(10, 20, 30)', 'rgb(250, 250, 250)', '3px', '300px', 'serif']);
    expect(await page.locator('poplet-campaign .x').textContent()).toBe('Fermer');
    expect(await page.locator('poplet-campaign .ns').count()).toBe(0);
    await page.evaluate(() => (window as unknown as W).__shown.destroy());
    await show(page, campaign({ type: 'popup' }, { ...c.content, style: { closeButton: 'none' } }));
    expect(await page.locator('poplet-campaign .x').count()).toBe(0);
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('poplet-campaign'));
  });

  it('a site can theme every campaign through the variables on the host; a campaign style wins', async () => {
    const { page } = await f.open({ head: '<style>poplet-campaign{--pl-accent:rgb(1, 2, 3);--pl-font:monospace}</style>' });
    await show(page, campaign({ type: 'slidein', position: 'bottom-right' }));
    const btn = page.locator('poplet-campaign button[type=submit]');
    expect(await btn.evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).fontFamily])).toEqual(['rgb(1, 2, 3)', 'monospace']);
    await page.evaluate(() => (window as unknown as W).__shown.destroy());
    await show(page, campaign({ type: 'slidein', position: 'bottom-right' }, { ...NEWSLETTER, style: { accent: 'rgb(9, 8, 7)' } }));
    expect(await btn.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(9, 8, 7)');
  });

  it('clicking the overlay closes a popup, clicking inside does not', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'popup' }));
    await page.locator('poplet-campaign h2').click();
    expect(await box(page).isVisible()).toBe(true);
    await page.mouse.click(5, 5);
    await page.waitForFunction(() => !document.querySelector('poplet-campaign'));
    expect((await calls(page)).map((c) => c[0])).toEqual(['displayed', 'closed']);
  });

  it('an embed in a hidden slot counts as displayed only once the slot shows, and never if it goes first', async () => {
    const { page, errors } = await f.open({ body: '<main><div id="slot" style="display:none"></div><div id="other" hidden></div></main>' });
    const hidden = 'poplet ui: campaign 7 not shown yet: hidden';
    await show(page, campaign({ type: 'embed', selector: '#slot' }));
    // Frames pass and nothing is recorded while the slot stays hidden.
    await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
    expect(await calls(page)).toEqual([['log', hidden]]);
    await page.locator('#slot').evaluate((el: HTMLElement) => (el.style.display = 'block'));
    await page.waitForFunction(() => (window as unknown as W).__calls.length > 1);
    expect(await calls(page)).toEqual([['log', hidden], ['displayed', 7]]);
    // Shown again later or resized: still one display.
    await page.locator('#slot').evaluate((el: HTMLElement) => ((el.style.display = 'none'), requestAnimationFrame(() => (el.style.display = 'block'))));
    await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
    expect((await calls(page)).filter((c) => c[0] == 'displayed')).toHaveLength(1);

    // Removed (an SPA page view) while still hidden: its slot showing later records nothing.
    await page.evaluate(() => ((window as unknown as W).__calls = []));
    await show(page, campaign({ type: 'embed', selector: '#other' }, NEWSLETTER, 8));
    await page.evaluate(() => (window as unknown as W).__shown.destroy());
    await page.locator('#other').evaluate((el: HTMLElement) => (el.hidden = false));
    await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
    expect((await calls(page)).map((c) => c[0])).toEqual(['log']);
    expect(errors).toEqual([]);
  });

  it('without ResizeObserver (Safari 12 to 13.0): no page error; a hidden embed and a popup count as displayed at once; bars and slide-ins show, stacked and padding the page as first drawn, all undone as they close', async () => {
    const noObserver = '<script>delete window.ResizeObserver</script>';
    const { page, errors } = await f.open({
      head: noObserver,
      body: '<main><div id="slot" style="display:none"></div></main>',
    });
    expect(await page.evaluate(() => typeof ResizeObserver)).toBe('undefined');
    await show(page, campaign({ type: 'embed', selector: '#slot' }));
    await show(page, campaign({ type: 'popup' }, NEWSLETTER, 8));
    await page.waitForFunction(() => (window as unknown as W).__calls.length > 1);
    await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
    expect(await calls(page)).toEqual([
      ['displayed', 7],
      ['displayed', 8],
    ]);
    expect(errors).toEqual([]);

    // A push bar and a desktop's card at the top, a covering bar and a phone's sheet at the
    // bottom; one closes first, then the other.
    for (const [edge, viewport, barFirst] of [['top', { width: 1280, height: 800 }, true], ['bottom', { width: 375, height: 667 }, false]] as const) {
      const what = `${edge} ${viewport.width} px`;
      const { page, errors } = await f.open({ head: noObserver + `<style>html{scroll-padding-${edge}:7px}body{margin:0;padding-${edge}:5px}</style>`, viewport });
      await show(page, campaign({ type: 'bar', position: edge, push: edge == 'top' }, NEWSLETTER, 1));
      await show(page, campaign({ type: 'slidein', position: `${edge}-right` }, NEWSLETTER, 2));
      expect(await calls(page), what).toEqual([
        ['displayed', 1],
        ['displayed', 2],
      ]);
      const gap = viewport.width > 600 ? 16 : 0;
      const from = (r: DOMRect, height: number) => (edge == 'top' ? r.bottom : height - r.top);
      const { rects, pad, push, other, height } = await edgeState(page, edge);
      const { bar, slidein: card } = rects;
      // The bar at the edge, the card beside it, both whole on screen.
      expect(from(bar, height), what).toBeCloseTo(bar.height, 0);
      expect(edge == 'top' ? card.top - bar.bottom : bar.top - card.bottom, what).toBeCloseTo(gap, 0);
      expect(Math.min(card.top, height - card.bottom), what).toBeGreaterThanOrEqual(gap - 0.5);
      expect(pad, what).toBeCloseTo(7 + bar.height + card.height + gap, 0);
      expect(other, what).toBe('auto');
      expect(parseFloat(push), what).toBeCloseTo(edge == 'top' ? 5 + bar.height : 5, 0);
      // One closes: the other has the edge, and the padding, to itself.
      await page.locator(`poplet-campaign .${barFirst ? 'bar' : 'slidein'} .x`).click();
      await page.waitForFunction(() => document.querySelectorAll('poplet-campaign').length == 1);
      const one = await edgeState(page, edge);
      const left = barFirst ? one.rects.slidein : one.rects.bar;
      expect(from(left, one.height), what).toBeCloseTo(left.height + (barFirst ? gap : 0), 0);
      expect(one.pad, what).toBeCloseTo(7 + from(left, one.height), 0);
      expect(parseFloat(one.push), what).toBeCloseTo(edge == 'top' && !barFirst ? 5 + left.height : 5, 0);
      // The other closes: the site's own values are back, no style of ours left.
      await page.locator(`poplet-campaign .${barFirst ? 'slidein' : 'bar'} .x`).click();
      await page.waitForFunction(() => !document.querySelector('poplet-campaign'));
      expect(await edgeState(page, edge), what).toMatchObject({ rects: {}, pad: 7, push: '5px', other: 'auto' });
      expect(await page.evaluate(() => document.documentElement.getAttribute('style') || document.body.getAttribute('style')), what).toBeFalsy();
      expect((await calls(page)).map((c) => c[0]), what).toEqual(['displayed', 'displayed', 'closed', 'closed']);
      expect(errors, what).toEqual([]);
      await page.context().close();
    }
  });

  it('an embed whose selector matches nothing logs and renders nothing', async () => {
    const { page, errors } = await f.open();
    await show(page, campaign({ type: 'embed', selector: '#missing' }));
    expect(await calls(page)).toEqual([['log', 'poplet ui: campaign 7 not shown: no element matches #missing']]);
    await show(page, campaign({ type: 'embed', selector: '[[bad' }));
    expect(await page.locator('poplet-campaign').count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('content that cannot render is logged and removed, nothing reaches the page', async () => {
    const { page, errors } = await f.open();
    // Past the server's validator only by hand: a select without options.
    const c = campaign({ type: 'popup' }, { label: 'x', steps: [{ blocks: [{ type: 'select', name: 's', label: 'S' } as never] }], success: { blocks: [] } });
    await show(page, c);
    const log = await calls(page);
    expect(log).toHaveLength(1);
    expect(log[0][1]).toBe('poplet ui: render failed');
    await page.waitForFunction(() => !document.querySelector('poplet-campaign'));
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).overflow)).toBe('visible');
    expect(errors).toEqual([]);
  });

  it('exit animation is skipped under prefers-reduced-motion, played otherwise', async () => {
    for (const reducedMotion of [true, false]) {
      const { page } = await f.open({ reducedMotion });
      await show(page, campaign({ type: 'popup' }));
      const anim = await box(page).evaluate((el) => getComputedStyle(el).animationName);
      expect(anim).toBe(reducedMotion ? 'none' : 'pl-u');
      // Time from the key press to the element leaving the page.
      await page.evaluate(() => {
        const w = window as unknown as { __gone: Promise<number> };
        w.__gone = new Promise((ok) => {
          let t0 = 0;
          document.addEventListener('keydown', () => (t0 = performance.now()), { capture: true, once: true });
          new MutationObserver((_, mo) => {
            if (!document.querySelector('poplet-campaign')) ok(performance.now() - t0), mo.disconnect();
          }).observe(document.documentElement, { childList: true });
        });
      });
      await page.keyboard.press('Escape');
      // Reduced motion: gone from sight at once (hidden on the key press, removed after the fade's time).
      if (reducedMotion) expect(await page.evaluate(() => document.querySelector('poplet-campaign')?.shadowRoot!.querySelector('.bx')!.getClientRects().length ?? 0)).toBe(0);
      const ms = await page.evaluate(() => (window as unknown as { __gone: Promise<number> }).__gone);
      if (!reducedMotion) expect(ms).toBeGreaterThanOrEqual(175);
      await page.waitForFunction(() => !document.querySelector('poplet-campaign'));
    }
  });
});

describe('the page around the campaign, and the screen', () => {
  const tall = '<main><h1>Shop</h1>' + '<p>Some page text.</p>'.repeat(200) + '<button id="before">Before</button><div id="slot"></div></main>';
  const scroll = (page: Page) => page.evaluate(() => [scrollY, document.body.scrollTop]);

  it('the scroll lock keeps the page where it was: a body with its own overflow, and a body that is the scroller', async () => {
    // html,body{height:100%} body{overflow-x:hidden}: the body's overflow is the viewport's until
    // the root's stops being visible; a lock on the root alone made the body a scroller at its top.
    const { page } = await f.open({ head: '<style>html,body{height:100%} body{overflow-x:hidden}</style>', body: tall, viewport: { width: 800, height: 600 } });
    await page.evaluate(() => scrollTo(0, 1500));
    await show(page, campaign({ type: 'popup' }));
    expect(await scroll(page)).toEqual([1500, 0]);
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).overflow)).toBe('hidden');
    await page.keyboard.press('Escape');
    expect(await scroll(page)).toEqual([1500, 0]);
    expect(await page.evaluate(() => [document.documentElement.getAttribute('style'), document.body.getAttribute('style')])).toEqual(['', '']);

    // An app shell whose body is the scroller (the root's overflow is not visible): left alone.
    const shell = await f.open({ head: '<style>html{overflow:hidden} html,body{height:100%;margin:0} body{overflow:auto}</style>', body: tall, viewport: { width: 800, height: 600 } });
    await shell.page.evaluate(() => (document.body.scrollTop = 1500));
    await show(shell.page, campaign({ type: 'fullscreen' }));
    expect(await scroll(shell.page)).toEqual([0, 1500]);
    await shell.page.keyboard.press('Escape');
    expect(await scroll(shell.page)).toEqual([0, 1500]);
  });

  it('a drag that starts in a field and ends on the overlay (selecting text) does not close the popup', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'popup' }));
    const email = page.locator('poplet-campaign input[type=email]');
    await email.fill('ada@example.com');
    const r = (await email.boundingBox())!;
    const bx = (await box(page).boundingBox())!;
    await page.mouse.move(r.x + r.width - 10, r.y + r.height / 2);
    await page.mouse.down();
    await page.mouse.move(bx.x - 40, r.y + r.height / 2, { steps: 5 });
    await page.mouse.up();
    expect((await calls(page)).map((c) => c[0])).toEqual(['displayed']);
    expect(await email.inputValue()).toBe('ada@example.com');
    // A press on the overlay itself still closes it.
    await page.mouse.click(5, 5);
    expect((await calls(page)).map((c) => c[0])).toEqual(['displayed', 'closed']);
  });

  it('fields and buttons fill the width of the step, in every layout but a bar', async () => {
    const { page } = await f.open({ body: '<div id="slot"></div>' });
    for (const layout of LAYOUTS.filter((l) => l.type != 'bar')) {
      await show(page, campaign(layout));
      const [step, email, button] = await page.evaluate(() =>
        ['.st', 'input[type=email]', 'button[type=submit]'].map((q) => document.querySelector('poplet-campaign')!.shadowRoot!.querySelector(q)!.getBoundingClientRect().width),
      );
      expect(email, layout.type).toBeCloseTo(step, 0);
      expect(button, layout.type).toBeCloseTo(step, 0);
      await page.evaluate(() => (window as unknown as W).__shown.destroy());
    }
  });

  it('a long word wraps inside the box instead of scrolling it sideways', async () => {
    const long: Content = { ...NEWSLETTER, steps: [{ blocks: [{ type: 'heading', text: 'Supercalifragilistic'.repeat(20) }, { type: 'paragraph', text: 'https://shop.example/' + 'x'.repeat(300) }, ...NEWSLETTER.steps[0].blocks.slice(2)] }] };
    const { page } = await f.open({ viewport: { width: 375, height: 667 } });
    for (const layout of [{ type: 'popup' }, { type: 'slidein', position: 'bottom-right' }, { type: 'embed', selector: '#slot' }] as Layout[]) {
      await show(page, campaign(layout, long));
      expect(await box(page).evaluate((b) => b.scrollWidth - b.clientWidth), layout.type).toBe(0);
      await page.evaluate(() => (window as unknown as W).__shown.destroy());
    }
  });

  it('right to left, in a transformed parent: the honeypot adds no sideways scroll and stays out of sight and reach', async () => {
    const { page } = await f.open({ body: '<main><h1>Boutique</h1><div style="transform:translateZ(0)"><div id="slot"></div></div></main>' });
    await page.evaluate(() => (document.documentElement.dir = 'rtl'));
    await show(page, campaign({ type: 'embed', selector: '#slot' }));
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBe(0);
    const hp = page.locator('poplet-campaign input[name=pl_hp]');
    expect(await hp.evaluate((el) => el.getBoundingClientRect().bottom <= 0)).toBe(true);
    expect(await hp.getAttribute('tabindex')).toBe('-1');
    expect(await hp.evaluate((el) => el.closest('[aria-hidden=true]') != null)).toBe(true);
  });

  it('the close button covers no heading: room above the first line, at the inline end (left when right to left)', async () => {
    const heading: Content = { ...NEWSLETTER, steps: [{ blocks: [{ type: 'heading', text: 'Get 10% off your very first order with us today, and more' }, ...NEWSLETTER.steps[0].blocks.slice(2)] }] };
    for (const dir of ['ltr', 'rtl']) {
      for (const layout of [{ type: 'popup' }, { type: 'slidein', position: 'bottom-right' }, { type: 'fullscreen' }] as Layout[]) {
        const { page } = await f.open({ viewport: { width: 375, height: 667 } });
        await page.evaluate((dir) => (document.documentElement.dir = dir), dir);
        await show(page, campaign(layout, heading));
        const [x, h2, bx] = await Promise.all(['.x', 'h2', '.bx'].map((s) => page.locator('poplet-campaign ' + s).evaluate((e) => e.getBoundingClientRect().toJSON() as DOMRect)));
        const what = `${dir} ${layout.type}`;
        // The heading's first line is full, edge to edge of the content.
        expect(h2.right - h2.left, what).toBeGreaterThan(bx.width - 60);
        expect(x.bottom, what).toBeLessThanOrEqual(h2.top);
        expect(dir == 'rtl' ? x.left - bx.left : bx.right - x.right, what).toBeLessThan(10);
        await page.context().close();
      }
    }
  });

  it('a box without a close button keeps no room for one above its content; with one, the button still covers none of it', async () => {
    // Taller than the viewport, so that a full screen starts at its top instead of centring.
    const blocks: Content['steps'][0]['blocks'] = [{ type: 'heading', text: 'Top heading' }];
    for (let i = 0; i < 6; i++) blocks.push({ type: 'text', name: 'f' + i, label: 'Field ' + i });
    blocks.push({ type: 'button', label: 'Go', action: 'submit' });
    const tall: Content = { ...NEWSLETTER, steps: [{ blocks }] };
    const { page } = await f.open({ viewport: { width: 375, height: 560 } });
    const at = (sel: string) => page.locator('poplet-campaign ' + sel).first().evaluate((e) => e.getBoundingClientRect().toJSON() as DOMRect);
    const layouts: Layout[] = [{ type: 'popup' }, { type: 'slidein', position: 'bottom-right' }, { type: 'slidein', position: 'top-left' }, { type: 'fullscreen' }, { type: 'embed', selector: '#slot' }];
    for (const layout of layouts) {
      for (const closeButton of ['none', 'icon', 'text'] as const) {
        await show(page, campaign(layout, { ...tall, style: { closeButton } }));
        const what = `${JSON.stringify(layout)} ${closeButton}`;
        const h2 = await at('h2');
        // From the box's padding edge (inside any safe-area border) to the first block.
        const top = await box(page).evaluate((e) => e.getBoundingClientRect().top + e.clientTop);
        if (closeButton == 'none') expect(h2.top - top, what).toBeLessThanOrEqual(24);
        else expect((await at('.x')).bottom, what).toBeLessThanOrEqual(h2.top);
        await page.evaluate(() => (window as unknown as W).__shown.destroy());
      }
    }
    // A bar keeps the close button in its side padding: with or without it, the same height.
    const heights: number[] = [];
    for (const closeButton of ['none', 'icon'] as const) {
      await show(page, campaign({ type: 'bar', position: 'top' }, { ...NEWSLETTER, style: { closeButton } }));
      heights.push((await box(page).boundingBox())!.height);
      await page.evaluate(() => (window as unknown as W).__shown.destroy());
    }
    expect(heights[0]).toBe(heights[1]);
  });

  it("a bar's text close button, wider than the bar's side padding, covers none of its content: at any width, in either direction", async () => {
    const { page } = await f.open();
    for (const close of ['Close', 'Schließen', 'Fermer la fenêtre'])
      for (const width of [320, 768, 1280])
        for (const dir of ['ltr', 'rtl']) {
          await page.setViewportSize({ width, height: 700 });
          await page.evaluate((dir) => (document.documentElement.dir = dir), dir);
          await show(page, campaign({ type: 'bar', position: 'top' }, { ...NEWSLETTER, style: { closeButton: 'text' }, messages: { close } }));
          const covered = await page.evaluate(() => {
            const root = document.querySelector('poplet-campaign')!.shadowRoot!;
            const x = root.querySelector('.x')!.getBoundingClientRect();
            return [...root.querySelectorAll('.st>*, label, input, .ns')]
              .filter((e) => {
                const r = e.getBoundingClientRect();
                return r.right > x.left && r.left < x.right && r.bottom > x.top && r.top < x.bottom;
              })
              .map((e) => e.outerHTML.slice(0, 40));
          });
          expect(covered, `${close} ${width} ${dir}`).toEqual([]);
          await page.evaluate(() => (window as unknown as W).__shown.destroy());
        }
  });

  it('full screens, bars and phone sheets keep clear of the notch and the home indicator (viewport-fit=cover)', async () => {
    const layouts: Array<[Layout, 'top' | 'bottom' | 'both']> = [
      [{ type: 'fullscreen' }, 'both'],
      [{ type: 'bar', position: 'top' }, 'top'],
      [{ type: 'bar', position: 'bottom' }, 'bottom'],
      // Phones: slide-ins and the popup's bottom sheet span the width, at the screen's edge.
      [{ type: 'slidein', position: 'top-left' }, 'top'],
      [{ type: 'slidein', position: 'bottom-right' }, 'bottom'],
      [{ type: 'popup' }, 'bottom'],
    ];
    for (const [layout, edge] of layouts) {
      const { page } = await f.open({ viewport: { width: 375, height: 667 }, head: '<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">' });
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Emulation.setSafeAreaInsetsOverride' as never, { insets: { top: 47, bottom: 34, left: 0, right: 0 } } as never);
      await show(page, campaign(layout));
      const [x, h2, ns, bx] = await Promise.all(['.x', 'h2', '.ns', '.bx'].map((s) => page.locator('poplet-campaign ' + s).evaluate((e) => e.getBoundingClientRect().toJSON() as DOMRect)));
      const what = JSON.stringify(layout);
      if (edge != 'bottom') {
        expect(Math.min(x.top, h2.top), what).toBeGreaterThanOrEqual(47);
        // The campaign's background still reaches the screen's edge.
        expect(bx.top, what).toBe(0);
      }
      if (edge != 'top') {
        expect(ns.bottom, what).toBeLessThanOrEqual(667 - 34);
        expect(bx.bottom, what).toBe(667);
      }
      // A top bar keeps no room at its bottom, nor a bottom bar at its top.
      if (layout.type == 'bar') {
        const side = layout.position == 'top' ? ('borderBottomWidth' as const) : ('borderTopWidth' as const);
        expect(await box(page).evaluate((e, side) => getComputedStyle(e)[side], side), what).toBe('0px');
      }
      await page.context().close();
    }
  });

  it('a phone\'s sheet stacked beside a bar keeps no notch or home-indicator room of its own: only the box at the edge does, the sheet again once alone there', async () => {
    for (const [edge, inset] of [['top', 47], ['bottom', 34]] as const) {
      const { page, errors } = await f.open({ viewport: { width: 375, height: 667 }, head: '<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">' });
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Emulation.setSafeAreaInsetsOverride' as never, { insets: { top: 47, bottom: 34, left: 0, right: 0 } } as never);
      await show(page, campaign({ type: 'bar', position: edge }, NEWSLETTER, 1));
      await show(page, campaign({ type: 'slidein', position: `${edge}-left` }, NEWSLETTER, 2));
      const side = edge == 'top' ? ('borderTopWidth' as const) : ('borderBottomWidth' as const);
      /** Each box's room at the edge (its transparent border there) and its rectangle. */
      const boxes = () =>
        page.evaluate(
          (side) =>
            Object.fromEntries(
              [...document.querySelectorAll('poplet-campaign')].map((e) => {
                const b = e.shadowRoot!.querySelector<HTMLElement>('.bx')!;
                return [b.parentElement!.classList[1], { room: getComputedStyle(b)[side], rect: b.getBoundingClientRect().toJSON() as DOMRect }];
              }),
            ),
          side,
        );
      const { bar, slidein: sheet } = await boxes();
      const what = edge;
      expect(bar.room, what).toBe(inset + 'px');
      expect(sheet.room, what).toBe('0px');
      // Right against the bar, the page padded by both.
      expect(edge == 'top' ? sheet.rect.top - bar.rect.bottom : bar.rect.top - sheet.rect.bottom, what).toBeCloseTo(0, 0);
      const pad = await page.evaluate((edge) => parseFloat(getComputedStyle(document.documentElement).getPropertyValue('scroll-padding-' + edge)), edge);
      expect(pad, what).toBeCloseTo(bar.rect.height + sheet.rect.height, 0);
      // The bar goes: the sheet at the edge keeps clear of the notch or the home indicator again.
      await page.locator('poplet-campaign .bar .x').click();
      await page.waitForFunction(() => document.querySelectorAll('poplet-campaign').length == 1);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const alone = (await boxes()).slidein;
      expect(alone.room, what).toBe(inset + 'px');
      expect(edge == 'top' ? alone.rect.top : 667 - alone.rect.bottom, what).toBe(0);
      expect(errors, what).toEqual([]);
      await page.context().close();
    }
  });

  it('Esc does not remove an embed, even while the visitor types in it', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'embed', selector: '#slot' }));
    const email = page.locator('poplet-campaign input[type=email]');
    await email.fill('ada@exa');
    await page.keyboard.press('Escape');
    expect(await page.locator('poplet-campaign').count()).toBe(1);
    expect(await email.inputValue()).toBe('ada@exa');
    expect((await calls(page)).map((c) => c[0])).toEqual(['displayed']);
  });
});
