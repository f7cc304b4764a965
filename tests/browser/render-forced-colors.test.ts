// Windows high contrast (forced colors) in real Chromium: backgrounds and shadows are dropped, so
// every boundary the visitor needs must be a border or an outline, whose colours are forced visible.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright';
import { campaign, fixture, LAYOUTS, show, type Fixture } from './render-fixture';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});
afterAll(() => f.close());

/** The sides of the element's box drawn in a visible colour (not transparent, not its own background). */
const edges = (page: Page, sel: string) =>
  page.locator('poplet-campaign ' + sel).first().evaluate((e) => {
    const c = getComputedStyle(e);
    const seen = (colour: string) => colour != c.backgroundColor && !/^rgba\(.*, 0\)$/.test(colour);
    const outline = c.outlineStyle != 'none' && parseFloat(c.outlineWidth) > 0 && seen(c.outlineColor);
    return ['Top', 'Right', 'Bottom', 'Left'].map((s) => {
      const k = (p: string) => c.getPropertyValue(`border-${s.toLowerCase()}-${p}`);
      return outline || (k('style') != 'none' && parseFloat(k('width')) > 0 && seen(k('color')));
    });
  });

describe('forced colors', () => {
  for (const layout of LAYOUTS) {
    it(`${JSON.stringify(layout)}: the box and the submit button keep a visible boundary`, async () => {
      const { page, errors } = await f.open();
      await page.emulateMedia({ forcedColors: 'active' });
      await show(page, campaign(layout));
      // The box's background is gone: without its outline it floats unbounded over the page's text.
      expect(await edges(page, '.bx')).toEqual([true, true, true, true]);
      // The accent fill is gone too: its border, forced to the text colour, draws the button.
      expect(await edges(page, 'button[type=submit]')).toEqual([true, true, true, true]);
      expect(await edges(page, 'input[type=email]')).toEqual([true, true, true, true]);
      // Every control shows where focus is.
      const rings: boolean[] = [];
      for (let i = 0; i < 6; i++) {
        await page.keyboard.press('Tab');
        const ring = await page.evaluate(() => {
          let e = document.activeElement;
          while (e?.shadowRoot?.activeElement) e = e.shadowRoot.activeElement;
          const c = getComputedStyle(e!);
          return e!.closest('.bx') ? c.outlineStyle != 'none' && parseFloat(c.outlineWidth) > 0 : null;
        });
        if (ring !== null) rings.push(ring);
      }
      expect(rings.length).toBeGreaterThan(2);
      expect(rings).not.toContain(false);
      expect(errors).toEqual([]);
    });
  }

  it('without forced colors the outline is transparent', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'popup' }));
    expect(await edges(page, '.bx')).toEqual([false, false, false, false]);
  });
});
