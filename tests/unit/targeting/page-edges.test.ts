// Page values as README describes them: referrer domain without www. or port, in its xn-- form;
// path and hash percent-encoded, query and UTM values decoded.
import { describe, expect, it, vi } from 'vitest';
import type { Rule } from '../../../src/shared/campaign-targeting';
import { compileRule } from '../../../src/sdk/targeting/rules';
import { buildContext } from '../../../src/sdk/context/build';
import { ctx } from './fixtures';

const domain = (referrer: string) => {
  const r = compileRule({ type: 'page', field: 'referrer_domain', op: 'equals', value: '?' } as Rule, vi.fn())!;
  return /is '?(.*?)'?, needs/.exec(r(ctx({ session: { ...ctx().session, referrer } }), 1)!)![1];
};

describe('page values', () => {
  it.each([
    ['https://www.Example.com:8080/x?y#z', 'example.com'],
    ['https://WWW.shop.example.com/', 'shop.example.com'],
    ['https://sub.www.example.com/', 'sub.www.example.com'],
    ['https://xn--bcher-kva.de/', 'xn--bcher-kva.de'],
    ['android-app://com.google.android.gm/', 'com.google.android.gm'],
    ['', 'missing'],
  ])('referrer %s has the domain %s', (referrer, want) => {
    expect(domain(referrer)).toBe(want);
  });

  it('path and hash stay percent-encoded; query values are decoded (+ and %20 are spaces)', () => {
    const win = { navigator: { userAgent: '', language: 'fr' }, screen: { width: 1280, height: 800 } } as unknown as Window;
    const href = 'https://a.example/caf%C3%A9?q=spring+sale&r=a%20b#caf%C3%A9';
    const x = buildContext(href, [1, 1, 1, href, '', ['spring sale']], [1, 1, [1]], { history: {}, signedUp: false } as never, {}, false, win);
    expect([x.path, x.hash, x.query.q, x.query.r]).toEqual(['/caf%C3%A9', 'caf%C3%A9', 'spring sale', 'a b']);
  });
});
