// Exit intent in real Chromium on the demo stack: on a phone (touch input through the DevTools
// protocol, as a finger produces it) a fast upward flick or coming back to the tab fires it, once
// per session; a slow upward scroll does not. On a desktop, leaving through the top fires it.
import { describe, expect, it } from 'vitest';
import type { CDPSession, Page } from 'playwright';
import { campaignBox, newVisitor, settled, withStack, type Visitor } from '../helpers/stack';
import { watchErrors } from '../helpers/browser';

const WELCOME = 1001;
const EXIT = 1002;
const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

const env = withStack();

interface Phone extends Visitor {
  /** A finger from y0 to y1 (CSS px) in `moves` touch moves, `gapMs` apart; then lifted. */
  swipe(y0: number, y1: number, moves: number, gapMs: number): Promise<void>;
}

async function newPhone(): Promise<Phone> {
  const context = await env.browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
    userAgent: IPHONE_UA,
  });
  const page = await context.newPage();
  const cdp: CDPSession = await context.newCDPSession(page);
  const touch = (type: string, y?: number) =>
    cdp.send('Input.dispatchTouchEvent', { type: type as 'touchStart', touchPoints: y === undefined ? [] : [{ x: 200, y }] });
  return {
    context,
    page,
    errors: watchErrors(page),
    async swipe(y0, y1, moves, gapMs) {
      await touch('touchStart', y0);
      for (let i = 1; i <= moves; i++) {
        await touch('touchMove', y0 + ((y1 - y0) * i) / moves);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
      await touch('touchEnd');
    },
  };
}

/** New visitors get the welcome popup first; close it so the exit offer has the popup slot. */
async function closeWelcome(page: Page): Promise<void> {
  const box = campaignBox(page, WELCOME);
  await box.waitFor({ state: 'visible', timeout: 10_000 });
  await box.getByRole('button', { name: /close/i }).first().click();
  await box.waitFor({ state: 'hidden', timeout: 5000 });
}

/** Reads down the page with two ordinary swipes, then rests. */
async function readDown(p: Phone): Promise<number> {
  await p.swipe(700, 200, 20, 16);
  await p.swipe(700, 200, 20, 16);
  await p.page.waitForTimeout(700);
  return p.page.evaluate(() => scrollY);
}

/** A quick thumb flick up: about 125 px of page in one move, so that no load on the machine can spread it over more than 300 ms. */
const flickUp = (p: Phone) => p.swipe(300, 440, 1, 0);

/** Nothing shows within `ms`. */
async function staysHidden(page: Page, ms = 900): Promise<void> {
  await page.waitForTimeout(ms);
  expect(await campaignBox(page, EXIT).isVisible()).toBe(false);
}

describe('exit intent on a phone', () => {
  it('is a phone to Poplet', async () => {
    const p = await newPhone();
    await p.page.goto(`${env.stack.site.url}/product`);
    const debug = (await p.page.evaluate(() => window.wisepops('debug'))) as unknown as { context: { device: string } };
    expect(debug.context.device).toBe('mobile');
    await p.context.close();
  });

  it('a fast upward flick fires it, once per session', async () => {
    const p = await newPhone();
    await p.page.goto(`${env.stack.site.url}/product`);
    await closeWelcome(p.page);
    const offer = campaignBox(p.page, EXIT);
    expect(await readDown(p)).toBeGreaterThan(400);
    await staysHidden(p.page, 300);

    const before = await p.page.evaluate(() => scrollY);
    await flickUp(p);
    await offer.waitFor({ state: 'visible', timeout: 5000 });
    // The flick was short: the first upward step after the rest had to count.
    expect(before - (await p.page.evaluate(() => scrollY))).toBeLessThan(200);
    await offer.getByRole('button', { name: 'No thanks' }).click();
    await offer.waitFor({ state: 'hidden', timeout: 5000 });

    // Once per session: not again on this page, nor on the next one.
    await readDown(p);
    await flickUp(p);
    await staysHidden(p.page);
    await p.page.goto(`${env.stack.site.url}/`);
    await settled(p.page, 300);
    await readDown(p);
    await flickUp(p);
    await staysHidden(p.page);

    expect(p.errors).toEqual([]);
    await p.context.close();
  });

  it('a slow upward scroll does not fire it (and a flick afterwards does)', async () => {
    const p = await newPhone();
    await p.page.goto(`${env.stack.site.url}/product`);
    await closeWelcome(p.page);
    const offer = campaignBox(p.page, EXIT);
    const top = await readDown(p);

    // About 120 px/s: a visitor reading back up.
    await p.swipe(200, 560, 180, 16);
    await p.page.waitForTimeout(500);
    expect(top - (await p.page.evaluate(() => scrollY))).toBeGreaterThan(200);
    await staysHidden(p.page, 300);

    await readDown(p);
    await flickUp(p);
    await offer.waitFor({ state: 'visible', timeout: 5000 });
    expect(p.errors).toEqual([]);
    await p.context.close();
  });

  it('coming back to the tab after switching away fires it', async () => {
    const p = await newPhone();
    await p.page.goto(`${env.stack.site.url}/product`);
    await closeWelcome(p.page);
    const offer = campaignBox(p.page, EXIT);
    await staysHidden(p.page, 300);

    // Headless Chromium keeps every page visible (another tab in front, a minimized window), so
    // the page goes through the states a phone's tab switch produces, as the browser reports them.
    const visibility = (state: string) =>
      p.page.evaluate((v) => {
        Object.defineProperty(document, 'visibilityState', { value: v, configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);
    await visibility('visible');
    await staysHidden(p.page, 300);
    await visibility('hidden');
    await staysHidden(p.page, 300);
    await visibility('visible');
    await offer.waitFor({ state: 'visible', timeout: 5000 });
    expect(p.errors).toEqual([]);
    await p.context.close();
  });
});

describe('exit intent on a phone, re-armed mid-page', () => {
  it('a tab left before the eligible set changed still fires it on coming back', async () => {
    const p = await newPhone();
    await p.page.goto(`${env.stack.site.url}/product`);
    await p.page.waitForFunction(() => (window.wisepops('debug') as { campaigns: unknown[] }).campaigns.length > 0);
    const offer = campaignBox(p.page, EXIT);
    // Before the welcome's 2 s landing delay: the visitor switches away, and meanwhile the site
    // sets a plan, which takes the welcome offer out of the waiting set (the triggers are re-armed).
    await p.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
      window.wisepops('properties', { plan: 'basic' });
    });
    const debug = (await p.page.evaluate(() => window.wisepops('debug'))) as unknown as { campaigns: Array<{ id: number; status: string }> };
    expect(debug.campaigns.filter((c) => c.id == WELCOME || c.id == EXIT).map((c) => c.status)).toEqual(['skipped', 'eligible']);
    await staysHidden(p.page, 300);
    await p.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await offer.waitFor({ state: 'visible', timeout: 5000 });
    expect(p.errors).toEqual([]);
    await p.context.close();
  });
});

describe('exit intent on a desktop', () => {
  it('fires when the pointer leaves through the top, not on a fast upward scroll', async () => {
    const v = await newVisitor(env.browser);
    await v.page.goto(`${env.stack.site.url}/product`);
    await closeWelcome(v.page);
    const offer = campaignBox(v.page, EXIT);

    await v.page.mouse.move(640, 400);
    await v.page.mouse.wheel(0, 800);
    await v.page.waitForTimeout(500);
    await v.page.mouse.wheel(0, -400);
    await staysHidden(v.page);

    await v.page.mouse.move(640, 8, { steps: 6 });
    await v.page.mouse.move(640, -30, { steps: 2 });
    await offer.waitFor({ state: 'visible', timeout: 5000 });
    expect(v.errors).toEqual([]);
    await v.context.close();
  });
});
