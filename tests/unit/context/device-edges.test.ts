// Device class from odd user agents: in-app browsers, bots, tablets that call themselves so.
import { describe, expect, it } from 'vitest';
import { deviceOf } from '../../../src/sdk/context/device';

const CHROME_PHONE = 'Mozilla/5.0 (Linux; Android 13; SM-S911B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.5845.163 Mobile Safari/537.36';

describe('deviceOf: odd user agents', () => {
  it.each([
    // In-app browsers append their own tokens after "Mobile Safari", some of them naming Android
    // again: that second "Android" has no "Mobile" after it, and the phone read as a tablet.
    ['Instagram on an Android phone', CHROME_PHONE + ' Instagram 301.0.0.33.110 Android (33/13; 480dpi; 1080x2340; samsung; SM-S911B; dm1q; qcom; en_GB; 517986703)', 412, 'mobile'],
    ['Pinterest on an Android phone', CHROME_PHONE + ' [Pinterest/Android]', 412, 'mobile'],
    ['Facebook on an Android phone', CHROME_PHONE + ' [FB_IAB/FB4A;FBAV/430.0.0.23.113;]', 412, 'mobile'],
    ['Instagram on an Android tablet', 'Mozilla/5.0 (Linux; Android 13; SM-X200; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116 Safari/537.36 Instagram 301.0 Android (33/13; 240dpi; 1200x1920)', 800, 'tablet'],
    ['Firefox on an Android tablet', 'Mozilla/5.0 (Android 13; Tablet; rv:120.0) Gecko/120.0 Firefox/120.0', 800, 'tablet'],
    ['Firefox on an Android phone', 'Mozilla/5.0 (Android 13; Mobile; rv:120.0) Gecko/120.0 Firefox/120.0', 390, 'mobile'],
    ['Kindle Fire (Silk)', 'Mozilla/5.0 (Linux; U; Android 4.0.3; en-us; KFTT Build/IML74K) AppleWebKit/537.36 (KHTML, like Gecko) Silk/3.68 like Chrome/39 Safari/537.36', 800, 'tablet'],
    ['Googlebot smartphone', 'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 0, 'mobile'],
    ['Googlebot desktop', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 0, 'desktop'],
    ['Windows laptop with a touch screen', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/125.0 Safari/537.36', 1080, 'desktop'],
  ] as const)('%s', (_, userAgent, short, expected) => {
    expect(deviceOf({ userAgent, maxTouchPoints: 10 * +/Windows/.test(userAgent) }, short)).toBe(expected);
  });
});
