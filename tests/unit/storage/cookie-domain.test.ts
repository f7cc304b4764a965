// @vitest-environment-options {"url": "http://a.www.shop.test/"}
// Adding or changing a shared cookieDomain where visitors already hold records under another one.
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
    for (const domain of [undefined, 'shop.test', 'www.shop.test']) Cookies.remove(name, { path: '/', domain });
});

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

  it('between deploys: a copy under any parent domain of the host is removed, not only the current one', () => {
    open({ ...cookie, cookieDomain: 'www.shop.test' }).write(R.VISITS, [1, 1, [1]]);
    const store = open({ ...cookie, cookieDomain: 'shop.test' });
    expect(store.read(R.VISITS, [0, 0, [0]])).toEqual([1, 1, [1]]);
    store.write(R.VISITS, [1, 2, [1, 2]]);
    expect(copies()).toBe(1);
    expect(open({ ...cookie, cookieDomain: 'shop.test' }).read(R.VISITS, [0, 0, [0]])).toEqual([1, 2, [1, 2]]);
  });
});
