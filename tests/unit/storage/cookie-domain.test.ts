// @vitest-environment-options {"url": "http://a.www.shop.test/"}
// Adding or changing a shared cookieDomain where visitors already hold records under another one,
// and the same names on a parent domain that belong to another app.
import { beforeEach, describe, expect, it } from 'vitest';
import Cookies from 'js-cookie';
import { createLog } from '../../../src/sdk/log';
import { createStore, R } from '../../../src/sdk/storage/store';

const cookie = { storage: 'cookie', cookieExpiryDays: 730 };
const open = (cfg: typeof cookie & { cookieDomain?: string }) => {
  const store = createStore(createLog());
  store.configure(cfg, true);
  return store;
};

beforeEach(() => {
  for (const name of Object.keys(Cookies.get()))
    for (const domain of [undefined, 'shop.test', 'www.shop.test', 'a.www.shop.test']) Cookies.remove(name, { path: '/', domain });
});

/** Where the cookies named `name` are, as jsdom's jar keeps them: '' for the host-only copy, else the domain. */
type Jar = { getCookiesSync(url: string): { key: string; domain: string; hostOnly: boolean }[] };
const where = (name: string) =>
  (globalThis as unknown as { jsdom: { cookieJar: Jar } }).jsdom.cookieJar
    .getCookiesSync(location.href)
    .filter((c) => c.key == name)
    .map((c) => (c.hostOnly ? '' : c.domain))
    .sort();

describe('cookieDomain set on a later page', () => {
  it('moves the host-only record to the shared domain, and later writes are read back', () => {
    open(cookie).write(R.VISITS, [1, 1, [1]]);
    const store = open({ ...cookie, cookieDomain: 'shop.test' });
    expect(store.read(R.VISITS, [0, 0, [0]])).toEqual([1, 1, [1]]);
    store.write(R.VISITS, [1, 2, [1, 2]]);
    // A host-only copy left behind would come first in document.cookie and shadow this write.
    expect(document.cookie.match(/wisepops_visits=/g)).toHaveLength(1);
    expect(open({ ...cookie, cookieDomain: 'shop.test' }).read(R.VISITS, [0, 0, [0]])).toEqual([1, 2, [1, 2]]);
  });
});

describe('cookies of the same name', () => {
  it("another app's with a malformed %-escape, listed first, does not hide this install's record (js-cookie skips it too)", () => {
    document.cookie = 'wisepops_visits=%E9; domain=shop.test; path=/';
    const store = open(cookie);
    store.write(R.VISITS, [1, 1, [1]]);
    expect(open(cookie).read(R.VISITS, [0, 0, [0]])).toEqual([1, 1, [1]]);
  });

  it.each(['pöpups', 'pops(2)'])('a global whose name cookies encode (%s): records are read back, on a shared domain too, with no refusal logged', (name) => {
    for (const cookieDomain of [undefined, 'shop.test']) {
      const logs: string[] = [];
      const a = createStore((m) => void logs.push(m), name);
      a.configure({ ...cookie, cookieDomain }, true);
      a.write(R.VISITS, [1, 1, [1]]);
      const b = createStore(createLog(), name);
      b.configure({ ...cookie, cookieDomain }, true);
      expect(b.read(R.VISITS, [0, 0, [0]])).toEqual([1, 1, [1]]);
      expect(logs).toEqual([]);
    }
  });
});

describe('a cookieDomain the browser refuses', () => {
  it.each(['example.com', 'shop-test.com', 'x.a.www.shop.test', 'test'])('%s: the records are kept host-only, with one debug line', (d) => {
    const logs: string[] = [];
    const store = createStore((m) => void logs.push(m));
    store.configure({ ...cookie, cookieDomain: d }, true);
    expect(store.write(R.VISITS, [1, 1, [1]])).toBe(true);
    store.write(R.NOSHOW, []);
    expect(where('wisepops_visits')).toEqual(['']);
    expect(open({ ...cookie, cookieDomain: d }).read(R.VISITS, [0, 0, [0]])).toEqual([1, 1, [1]]);
    expect(open({ ...cookie, cookieDomain: d }).read(R.NOSHOW, [])).toEqual([]);
    expect(logs).toEqual(['cookieDomain refused, records host-only: ' + d]);
    // Deleting reaches the host-only copy.
    store.write(R.VISITS);
    expect(where('wisepops_visits')).toEqual([]);
  });
});

describe('cookieDomain changed', () => {
  const copies = () => document.cookie.match(/wisepops_visits=/g)?.length;

  it('at run time, on the live options object the command layer passes: the old-domain copy goes', () => {
    const opts = { ...cookie, cookieDomain: 'www.shop.test' };
    const store = createStore(createLog());
    store.configure(opts, true);
    store.write(R.VISITS, [1, 1, [1]]);
    opts.cookieDomain = 'shop.test';
    store.configure(opts, true);
    expect(copies()).toBe(1);
    store.write(R.VISITS, [1, 2, [1, 2]]);
    expect(copies()).toBe(1);
    expect(open(opts).read(R.VISITS, [0, 0, [0]])).toEqual([1, 2, [1, 2]]);
  });

  it('widened between deploys: a copy under a narrower domain (between this host and the new one) is removed', () => {
    open({ ...cookie, cookieDomain: 'www.shop.test' }).write(R.VISITS, [1, 1, [1]]);
    const store = open({ ...cookie, cookieDomain: 'shop.test' });
    expect(store.read(R.VISITS, [0, 0, [0]])).toEqual([1, 1, [1]]);
    store.write(R.VISITS, [1, 2, [1, 2]]);
    expect(copies()).toBe(1);
    expect(open({ ...cookie, cookieDomain: 'shop.test' }).read(R.VISITS, [0, 0, [0]])).toEqual([1, 2, [1, 2]]);
  });
});

describe('deletes stay between this host and the configured domain', () => {
  // Another app's records of the same names: an install on www.shop.test sharing them on
  // shop.test, where the visitor opted out (or the real Wisepops script).
  const theirs = () => {
    Cookies.set('wisepops_noshow', '[1]', { path: '/', domain: 'shop.test' });
    Cookies.set('wisepops_visits', '[1~1~9~[1]]', { path: '/', domain: 'shop.test' });
  };

  it('no cookieDomain: a page view leaves the parent-domain copies alone', () => {
    theirs();
    const store = open(cookie);
    store.write(R.VISITS, [1, 2, [1]]);
    expect(where('wisepops_noshow')).toEqual(['', 'shop.test']);
    expect(where('wisepops_visits')).toEqual(['', 'shop.test']);
    // Deleting (a record reset, the opt-out turned off) does not reach them either.
    store.write(R.NOSHOW);
    expect(where('wisepops_noshow')).toEqual(['shop.test']);
  });

  it('cookieDomain www.shop.test: removes the copies on this host and up to it, not on shop.test', () => {
    theirs();
    Cookies.set('wisepops_visits', '[1~1~1~[1]]', { path: '/', domain: 'a.www.shop.test' });
    open({ ...cookie, cookieDomain: 'www.shop.test' });
    expect(where('wisepops_visits')).toEqual(['shop.test', 'www.shop.test']);
    expect(where('wisepops_noshow')).toEqual(['shop.test', 'www.shop.test']);
  });

  it('a leading dot and capitals in cookieDomain name the same domain', () => {
    const store = open({ ...cookie, cookieDomain: '.WWW.shop.test' });
    store.write(R.NOSHOW, []);
    expect(where('wisepops_noshow')).toEqual(['www.shop.test']);
    store.write(R.NOSHOW);
    expect(where('wisepops_noshow')).toEqual([]);
  });

  it('narrowed at run time: the copy under the previous, wider domain goes too', () => {
    const opts = { ...cookie, cookieDomain: 'shop.test' };
    const store = createStore(createLog());
    store.configure(opts, true);
    store.write(R.VISITS, [1, 1, [1]]);
    opts.cookieDomain = 'www.shop.test';
    store.configure(opts, true);
    expect(where('wisepops_visits')).toEqual(['www.shop.test']);
    expect(store.read(R.VISITS, [0, 0, [0]])).toEqual([1, 1, [1]]);
  });

  it('narrowed between deploys: the wider copy stays; loading wide and narrowing at run time (README, Options) moves it', () => {
    open({ ...cookie, cookieDomain: 'shop.test' }).write(R.VISITS, [1, 1, [1]]);
    open({ ...cookie, cookieDomain: 'www.shop.test' }).write(R.VISITS, [1, 2, [1]]);
    // Not reached: the wider copy comes first and hides the new one.
    expect(where('wisepops_visits')).toEqual(['shop.test', 'www.shop.test']);
    expect(open({ ...cookie, cookieDomain: 'www.shop.test' }).read(R.VISITS, [0, 0, [0]])).toEqual([1, 1, [1]]);
    const opts = { ...cookie, cookieDomain: 'shop.test' };
    const store = createStore(createLog());
    store.configure(opts, true);
    opts.cookieDomain = 'www.shop.test';
    store.configure(opts, true);
    expect(where('wisepops_visits')).toEqual(['www.shop.test']);
  });
});
