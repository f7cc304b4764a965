// End-to-end journeys 4–6 on the real stack in real Chromium: exit intent, the session-UTM bar,
// a custom property queued before the script loads; plus the demo's inline embed and campaigns.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright';
import { validateCampaign } from '../../src/shared/campaign';
import { DEMO, campaignBox, newVisitor, settled, withStack, visibleCampaigns } from '../helpers/stack';

const DAY = 86_400_000;
const WELCOME = 1001;
const EXIT = 1002;
const BAR = 1003;
const PRO = 1005;
const EMBED = 1006;

const env = withStack();

/** Real pointer movement out of the viewport through one edge. */
async function leaveThrough(page: Page, edge: 'top' | 'right'): Promise<void> {
  await page.mouse.move(640, 400);
  if (edge === 'top') {
    await page.mouse.move(640, 8, { steps: 6 });
    await page.mouse.move(640, -30, { steps: 2 });
  } else {
    await page.mouse.move(1270, 400, { steps: 6 });
    await page.mouse.move(1320, 400, { steps: 2 });
  }
}

/** New visitors get the welcome popup first; close it so the next campaign has the popup slot. */
async function closeWelcome(page: Page): Promise<void> {
  const box = campaignBox(page, WELCOME);
  await box.waitFor({ state: 'visible', timeout: 10_000 });
  await box.getByRole('button', { name: /close/i }).first().click();
  await box.waitFor({ state: 'hidden', timeout: 5000 });
}

describe('demo campaigns', () => {
  it('are all valid against the shared schema', () => {
    for (const c of DEMO) expect(validateCampaign(c), `campaign ${c.id}`).toEqual({ ok: true, campaign: c });
  });
});

describe('journeys 4–6', () => {
  it('4. exit intent fires on desktop when the pointer leaves through the top, once per session', async () => {
    const v = await newVisitor(env.browser);
    await v.page.goto(`${env.stack.site.url}/product`);
    await closeWelcome(v.page);
    const offer = campaignBox(v.page, EXIT);

    // Leaving through the side is not an exit.
    await leaveThrough(v.page, 'right');
    await v.page.waitForTimeout(800);
    expect(await offer.isVisible()).toBe(false);

    await leaveThrough(v.page, 'top');
    await offer.waitFor({ state: 'visible', timeout: 5000 });
    await offer.getByRole('button', { name: 'No thanks' }).click();
    await offer.waitFor({ state: 'hidden', timeout: 5000 });

    // Once per session: not again on this page, nor on the next one.
    await leaveThrough(v.page, 'top');
    await v.page.waitForTimeout(1000);
    expect(await offer.isVisible()).toBe(false);
    await v.page.goto(`${env.stack.site.url}/`);
    await settled(v.page, 300);
    await leaveThrough(v.page, 'top');
    await v.page.waitForTimeout(1000);
    expect(await visibleCampaigns(v.page)).toEqual([]);

    expect(v.errors).toEqual([]);
    await v.context.close();
  });

  it('5. the newsletter bar shows for ?utm_source=newsletter on landing and on that session\'s next pages only', async () => {
    const now = Date.now();
    const v = await newVisitor(env.browser, { clock: now });
    const bar = campaignBox(v.page, BAR);
    await v.page.goto(`${env.stack.site.url}/?utm_source=newsletter`);
    await bar.waitFor({ state: 'visible', timeout: 10_000 });
    // A bar and a popup have separate slots: the welcome popup joins it after its delay.
    await campaignBox(v.page, WELCOME).waitFor({ state: 'visible', timeout: 10_000 });
    expect(await bar.isVisible()).toBe(true);

    for (const path of ['/product', '/blog/green-tea-guide']) {
      await v.page.goto(`${env.stack.site.url}${path}`);
      await bar.waitFor({ state: 'visible', timeout: 10_000 });
    }

    // Next session (a day later), no UTM on its landing page: no bar.
    await v.context.clock.setSystemTime(now + DAY);
    await v.page.goto(`${env.stack.site.url}/pricing`);
    await settled(v.page);
    expect(await bar.isVisible()).toBe(false);
    expect(v.errors).toEqual([]);
    await v.context.close();

    // Someone who landed without it, then opens a newsletter link mid-session: the session's UTM
    // is its landing page's, so still no bar. Another source: no bar either.
    for (const [first, next] of [
      ['/', '/product?utm_source=newsletter'],
      ['/?utm_source=twitter', '/product'],
    ] as const) {
      const w = await newVisitor(env.browser);
      await w.page.goto(`${env.stack.site.url}${first}`);
      await settled(w.page, 300);
      await w.page.goto(`${env.stack.site.url}${next}`);
      await settled(w.page);
      expect(await campaignBox(w.page, BAR).isVisible(), `${first} then ${next}`).toBe(false);
      expect(w.errors).toEqual([]);
      await w.context.close();
    }
  });

  it("5b. the demo strip's newsletter link shows the bar to a visitor already browsing: it starts a new session landing on ?utm_source=newsletter", async () => {
    const v = await newVisitor(env.browser);
    await v.page.goto(`${env.stack.site.url}/product`);
    await closeWelcome(v.page);
    await v.page.getByRole('link', { name: 'Arrive from the newsletter' }).click();
    await v.page.waitForURL(/\/\?utm_source=newsletter$/);
    await campaignBox(v.page, BAR).waitFor({ state: 'visible', timeout: 10_000 });
    const ctx = (await v.page.evaluate(() => (window as unknown as { wisepops(c: string): unknown }).wisepops('debug'))) as { context: { visits: number[] } };
    expect(ctx.context.visits).toHaveLength(2);
    expect(v.errors).toEqual([]);
    await v.context.close();
  });

  it('6. a custom property set before the script loads (queued) targets a popup on the same page view', async () => {
    const v = await newVisitor(env.browser);
    await v.page.goto(`${env.stack.site.url}/account`);
    // The account page called wisepops('properties', …) while the snippet's stub was still queueing.
    expect(await v.page.evaluate(() => (window as unknown as { demoQueuedBeforeLoad: boolean }).demoQueuedBeforeLoad)).toBe(true);
    await campaignBox(v.page, PRO).waitFor({ state: 'visible', timeout: 10_000 });
    // The new-visitor popup excludes customers with a plan: it does not follow after its delay.
    await settled(v.page, 2500);
    expect(await visibleCampaigns(v.page)).toEqual([PRO]);
    expect(v.errors).toEqual([]);
    await v.context.close();
  });

  it('6b. the pricing page button sets the property and the pro popup shows without a page load', async () => {
    const v = await newVisitor(env.browser);
    await v.page.goto(`${env.stack.site.url}/pricing`);
    await closeWelcome(v.page);
    const navigations: string[] = [];
    v.page.on('framenavigated', (f) => navigations.push(f.url()));
    await v.page.getByRole('button', { name: "I'm a Pro subscriber" }).click();
    await campaignBox(v.page, PRO).waitFor({ state: 'visible', timeout: 10_000 });
    expect(navigations).toEqual([]);
    expect(v.errors).toEqual([]);
    await v.context.close();
  });

  it('the inline embed renders into the blog post\'s spot on every page view and accepts a sign-up', async () => {
    const v = await newVisitor(env.browser);
    await v.page.goto(`${env.stack.site.url}/blog/green-tea-guide`);
    const embed = campaignBox(v.page, EMBED);
    await embed.waitFor({ state: 'visible', timeout: 10_000 });
    // The next page view of the session has it too: part of the page, not a once-a-session popup.
    await v.page.goto(`${env.stack.site.url}/blog/green-tea-guide`);
    await embed.waitFor({ state: 'visible', timeout: 10_000 });
    // It is inside the page's #poplet-embed element, not floating over the page.
    expect(await v.page.evaluate(() => document.querySelector('#poplet-embed')!.childElementCount)).toBeGreaterThan(0);
    const email = `embed-${Date.now()}@example.com`;
    await embed.getByRole('textbox', { name: 'Email', exact: true }).fill(email);
    await embed.getByRole('combobox', { name: 'Your usual cup', exact: true }).selectOption('Oolong');
    await embed.getByRole('button', { name: 'Subscribe' }).click();
    await embed.getByText("You're in. See you Sunday.", { exact: true }).waitFor({ timeout: 10_000 });
    const rows = (await env.stack.emails({ wisepop_id: String(EMBED) })).filter((r) => r.email === email);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.other_fields.favourite).toBe('Oolong');
    expect(v.errors).toEqual([]);
    await v.context.close();
  });
});
