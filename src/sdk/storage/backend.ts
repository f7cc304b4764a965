// Where the records physically live: first-party cookies (js-cookie) or Web Storage.
// A backend moves raw strings; `days` undefined means "for the browser session only". Every
// cookie is on path=/, js-cookie's default.
import Cookies from 'js-cookie';
import { decode } from './codec';
import { safe } from '../guard';

export interface Backend {
  get(name: string): string | null | undefined;
  set(name: string, value: string, days?: number): void;
  /** `keep`: a set() of the record follows, which replaces its own copy in place: that one is left. */
  del(name: string, keep?: boolean): void;
}

/**
 * js-cookie builds a cookie's attributes with for…in, which also meets the enumerable keys a page
 * put on Object.prototype (a legacy `Object.prototype.clone = function…`, prototype pollution):
 * each would become an attribute, and a function or a number (no .split) made every write throw.
 * An own undefined for each hides it: js-cookie skips falsy attributes. Deleting goes through
 * set() too (expires -1, what remove() does): remove() adds a literal of its own, whose
 * inherited keys would come back after ours.
 */
const put = (name: string, value: string, a: Cookies.CookieAttributes) => {
  for (const k in {}) if (!a.hasOwnProperty(k)) a[k] = undefined;
  return Cookies.set(name, value, a);
};

/**
 * `domains()`: the shared cookie domain configured (records are set on it), then the previous one;
 * either may be '' or undefined. A domain the browser refuses (not one of the page's: a staging
 * host given the live site's setting, a typo, a public suffix) stores nothing: the record is then
 * set host-only, so the visitor's history still holds, and `refused` is told. Refused means the
 * value is nowhere in document.cookie, not merely that another copy comes first (a wider one left
 * by an earlier deploy, see del).
 */
export const cookies = (domains: () => (string | undefined)[], refused: (domain: string) => void): Backend => ({
  // Several cookies can share a name: another app's on a parent domain (the real Wisepops, in its
  // own format), an older one on a deeper path. js-cookie gives the first, which would be reset
  // on every page while ours, behind it, is deleted with it: the first one in the records' format
  // is ours, else the first (whose reading resets it).
  get(name) {
    let first: string | undefined;
    for (const c of document.cookie.split('; ')) {
      const at = c.indexOf('=');
      // safe(): a malformed %-escape (another app's cookie) is skipped, as js-cookie does.
      const v = safe(() => at > 0 && Cookies.converter.read(c.slice(0, at), name) == name && Cookies.converter.read(c.slice(at + 1), name));
      if (v && decode(v)) return v;
      if (v) first = first ?? v;
    }
    return first;
  },
  set(name, value, expires) {
    const a: Cookies.CookieAttributes = { sameSite: 'Lax', secure: location.protocol == 'https:', expires };
    const domain = domains()[0];
    // What was written, name and value as js-cookie encodes them (undefined only without a document).
    const w = put(name, value, { ...a, domain })!.split(';')[0];
    if (domain && !`; ${document.cookie};`.includes(`; ${w};`)) put(name, value, a), refused(domain);
  },
  // The host-only copy (no domain), one on this host, and one on each parent domain up to the
  // configured or the previous domain, inclusive (a leading dot and capitals as browsers read
  // them): a copy left by a narrower cookieDomain (an earlier deploy's, or this page's before a
  // run-time change) would come first in document.cookie and shadow the current one for good.
  // Nothing wider: configure() deletes every record on every page load, and the same names on a
  // parent domain may be another app's (an install on a sibling host, the real Wisepops).
  // The copy a following set() replaces (`keep`) is left to it: deleted first, the record would
  // be missing for a moment, and a tab reading it then (tabs the browser restores together, each
  // page moving every record) would find no opt-out and no history, and write that back. That copy
  // is host-only ('.') where set() finds the domain refused, as it is when the host is not under it
  // (a staging host given the live site's setting).
  del(name, keep) {
    let d = location.hostname;
    const c = (domains()[0] || '').replace(/^\.?/, '.').toLowerCase();
    // `d` is the host at the first two calls, so the host-only copy is kept exactly when the host is not under `c`.
    const gone = (domain = '') => (keep && (('.' + d).endsWith(c) ? c : '.') == '.' + domain) || put(name, '', { domain, expires: -1 });
    gone();
    do gone(d);
    while (domains().some((t) => t && d.endsWith(t.replace(/^\.?/, '.').toLowerCase())) && (d = d.slice(d.indexOf('.') + 1)));
  },
});

// localStorage for persistent records, sessionStorage for session ones. Web Storage has no
// expiry, so each value is stored as "<expiry epoch seconds, 0 = none> <value>" and an
// expired one is removed when read.
// Methods in the order that gzips smallest.
export const web: Backend = {
  del(name) {
    localStorage.removeItem(name);
    sessionStorage.removeItem(name);
  },
  get(name) {
    for (const s of [sessionStorage, localStorage]) {
      const raw = s.getItem(name);
      if (raw == null) continue;
      const at = raw.indexOf(' ');
      const exp = +raw.slice(0, at);
      // A malformed prefix passes here and fails decoding, which resets the record.
      if (!exp || exp * 1000 > Date.now()) return raw.slice(at + 1);
      s.removeItem(name);
    }
  },
  // The other copy goes only once the write succeeded: a refused one (quota) throws to the
  // store and leaves the record as it was.
  set(name, value, days) {
    if (days) localStorage.setItem(name, Math.ceil(Date.now() / 1000 + days * 86400) + ' ' + value), sessionStorage.removeItem(name);
    else sessionStorage.setItem(name, '0 ' + value), localStorage.removeItem(name);
  },
};
