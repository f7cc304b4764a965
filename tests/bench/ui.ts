// UI chunk figures (its size is in bench/size): show()→painted time in Chromium with the chunk cached, and long
// tasks (> 50 ms) on the main thread while a page loads the chunk and shows a campaign.
// `npm run bench`, or alone (after `npm run build`): npx tsx tests/bench/ui.ts
import { launchChromium } from '../helpers/browser';
import { startStaticServer } from '../helpers/static-server';
import { BUILT_UI_GLOBAL } from '../helpers/chunks';
import type { Campaign } from '../../src/shared/campaign';

const RUNS = 20;

const CAMPAIGN: Campaign = {
  id: 1,
  name: 'Bench',
  status: 'live',
  trigger: { type: 'landing' },
  layout: { type: 'popup' },
  content: {
    label: 'Newsletter',
    steps: [
      {
        blocks: [
          { type: 'heading', text: 'Get 10% off your first order' },
          { type: 'paragraph', text: 'Join <b>25,000</b> readers. <a href="https://example.com/privacy">Privacy</a>', html: true },
          { type: 'email', label: 'Email', required: true },
          { type: 'consent', label: 'I agree to receive emails', required: true },
          { type: 'button', label: 'Subscribe', action: 'submit' },
        ],
      },
    ],
    success: { blocks: [{ type: 'heading', text: 'Thanks!' }] },
  },
};

/** A host that records nothing; `displayed` is the chunk's own "painted" signal. */
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title>
<script src="/longtasks.js"></script></head><body><main><h1>Bench</h1><p>Page text.</p></main>
<script src="/bench.js"></script></body></html>`;

const LONGTASKS = `window.__long = [];
new PerformanceObserver(function (l) { l.getEntries().forEach(function (e) { __long.push(e.duration); }); }).observe({ type: 'longtask', buffered: true });`;

const BENCH = `
window.__campaign = ${JSON.stringify(CAMPAIGN)};
window.__once = function () {
  return new Promise(function (done) {
    var t0 = performance.now();
    var shown;
    var host = {
      context: function () { return { props: {}, session: { utm: {} } }; },
      displayed: function () { done(performance.now() - t0); setTimeout(function () { shown.destroy(); }); },
      closed: function () {}, clicked: function () {}, noshow: function () {}, log: function () {},
      submit: function () { return Promise.resolve({ ok: true, queued: false }); },
    };
    shown = window[${JSON.stringify(BUILT_UI_GLOBAL)}].show({ campaign: __campaign, content: __campaign.content, host: host });
  });
};
// The page-load case, as the core does it: an async <script> for the chunk, then a landing
// campaign shown as soon as the chunk has run.
window.__first = new Promise(function (ok) {
  var s = document.createElement('script');
  s.src = '/dist/poplet.ui.js';
  s.onload = function () { __once().then(ok); };
  document.head.appendChild(s);
});
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export async function bench(): Promise<string[]> {
  const lines: string[] = [];
  const server = await startStaticServer();
  server.pages.set('/bench.html', { body: PAGE });
  server.pages.set('/longtasks.js', { body: LONGTASKS, type: 'text/javascript' });
  server.pages.set('/bench.js', { body: BENCH, type: 'text/javascript' });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(server.url + '/bench.html', { waitUntil: 'load' });
    const first = await page.evaluate(() => (window as unknown as { __first: Promise<number> }).__first);
    await page.waitForTimeout(500);
    const long = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      times.push(await page.evaluate(() => (window as unknown as { __once(): Promise<number> }).__once()));
      await page.waitForTimeout(50);
    }
    lines.push(
      `ui: show→paint ${median(times).toFixed(1)} ms (median of ${RUNS}, chunk cached; max ${Math.max(...times).toFixed(1)} ms; target < 50 ms)`,
      `ui: first show→paint on page load ${first.toFixed(1)} ms (chunk just parsed, first use of its styles)`,
      `ui: long tasks > 50 ms during page load with the chunk: ${long.length}${long.length ? ` (longest ${Math.max(...long).toFixed(0)} ms)` : ''} (target 0)`,
    );
  } finally {
    await browser.close();
    await server.close();
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const l of await bench()) console.log(l);
