// Real Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright.
// Browser downloads are impossible here, so never rely on playwright's own builds.
import { chromium, type Browser, type BrowserContext, type Page, type ConsoleMessage } from 'playwright';
import { decode } from '../../src/sdk/storage/codec';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/**
 * `bfcache`: keep the back/forward cache, which playwright turns off by default
 * (`--disable-back-forward-cache`), for a test of a page restored from it.
 */
export function launchChromium(o: { bfcache?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    ignoreDefaultArgs: o.bfcache ? ['--disable-back-forward-cache'] : undefined,
  });
}

/**
 * Collects console errors and uncaught page exceptions, so every browser test can assert that
 * the host page saw none.
 */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e: Error) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/**
 * The analytics id in a browser context's `wisepops_visitor` cookie. Tests filter the batches a
 * server received by it: a page of the previous test's context can still send its last batch (on
 * pagehide, while the context closes) after the test has reset its list.
 */
export async function visitorOf(context: BrowserContext): Promise<unknown> {
  const cookie = (await context.cookies()).find((c) => c.name === 'wisepops_visitor');
  return cookie && decode(decodeURIComponent(cookie.value))?.[0];
}
