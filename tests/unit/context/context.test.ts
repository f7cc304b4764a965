// The visitor context and the device class.
import { describe, expect, it, vi } from 'vitest';
import { buildContext } from '../../../src/sdk/context/build';
import { deviceOf } from '../../../src/sdk/context/device';

describe('buildContext', () => {
  it('turns the records and the page into the targeting input (times in ms)', () => {
    vi.useFakeTimers({ now: 1_700_000_100_000 });
    const ctx = buildContext(
      'https://shop.example/p/shoes?size=42&size=43&constructor=x#reviews',
      [1_700_000_000, 1_700_000_050, 3, 'https://shop.example/', 'https://google.com/', ['news', '', 'spring', '', '']],
      [1_600_000_000, 40, [1_650_000_000, 1_700_000_000]],
      { signedUp: true, history: { 7: { d: 1, c: 1, v: 0, k: 0, l: 1_700_000_000, p: 2 } } },
      { user: { plan: 'gold' } },
      false,
    );
    vi.useRealTimers();
    expect(ctx).toMatchObject({
      now: 1_700_000_100_000,
      url: 'https://shop.example/p/shoes?size=42&size=43&constructor=x#reviews',
      path: '/p/shoes',
      hash: 'reviews',
      session: { start: 1_700_000_000_000, landing: 'https://shop.example/', referrer: 'https://google.com/', utm: { utm_source: 'news', utm_campaign: 'spring' }, pageviews: 3 },
      visits: [1_650_000_000_000, 1_700_000_000_000],
      firstVisit: 1_600_000_000_000,
      totalPageviews: 40,
      props: { user: { plan: 'gold' } },
      language: navigator.language.toLowerCase(),
      country: null,
      history: { 7: { d: 1, c: 1, v: 0, k: 0, l: 1_700_000_000, p: 2 } },
      signedUp: true,
      noshow: false,
    });
    expect(ctx.session.utm).toEqual({ utm_source: 'news', utm_campaign: 'spring' });
    expect({ ...ctx.query }).toEqual({ size: '42', constructor: 'x' });
  });
});

describe('deviceOf', () => {
  const UA = {
    iphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1',
    pixel: 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 Chrome/125.0 Mobile Safari/537.36',
    galaxyTab: 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 Chrome/125.0 Safari/537.36',
    ipad: 'Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
    mac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15',
    windows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/125.0 Safari/537.36',
  };
  it.each([
    ['iPhone', { userAgent: UA.iphone }, 390, 'mobile'],
    ['Android phone', { userAgent: UA.pixel }, 412, 'mobile'],
    ['Android tablet (no "Mobile")', { userAgent: UA.galaxyTab }, 800, 'tablet'],
    ['iPad', { userAgent: UA.ipad }, 768, 'tablet'],
    ['iPadOS desktop-class Safari (Mac UA with touch)', { userAgent: UA.mac, maxTouchPoints: 5 }, 820, 'tablet'],
    ['Mac', { userAgent: UA.mac, maxTouchPoints: 0 }, 900, 'desktop'],
    ['Windows', { userAgent: UA.windows }, 1080, 'desktop'],
    ['client hints say mobile', { userAgent: UA.windows, userAgentData: { mobile: true } }, 400, 'mobile'],
    ['a "mobile" with a tablet-sized screen', { userAgent: UA.pixel }, 800, 'tablet'],
  ] as const)('%s → %s', (_, nav, short, expected) => {
    expect(deviceOf(nav, short)).toBe(expected);
  });
});
