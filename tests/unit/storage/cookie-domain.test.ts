// @vitest-environment-options {"url": "http://www.shop.test/"}
// Adding a shared cookieDomain to a site whose visitors already hold host-only records.
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
  for (const name of Object.keys(Cookies.get())) Cookies.remove(name, { path: '/' }), Cookies.remove(name, { path: '/', domain: 'shop.test' });
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
