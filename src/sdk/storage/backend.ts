// Where the records physically live: first-party cookies (js-cookie) or Web Storage.
// A backend moves raw strings; `days` undefined means "for the browser session only".
import Cookies from 'js-cookie';

export interface Backend {
  get(name: string): string | null | undefined;
  set(name: string, value: string, days?: number): void;
  del(name: string): void;
}

/** `domain()`: the shared cookie domain currently configured, if any. */
export const cookies = (domain: () => string | undefined): Backend => ({
  get: Cookies.get,
  set: (name, value, expires) => Cookies.set(name, value, { path: '/', sameSite: 'Lax', secure: location.protocol == 'https:', domain: domain(), expires }),
  // The host-only copy ('': js-cookie leaves out an empty domain) and one on every parent
  // domain of this host, not only the configured one: a copy left by an earlier cookieDomain
  // (this page's or an earlier deploy's) comes first in document.cookie and would shadow the
  // current one for good.
  del: (name) => ['', ...location.hostname.split('.')].map((_, i, a) => Cookies.remove(name, { path: '/', domain: a.slice(i + 1).join('.') })),
});

// localStorage for persistent records, sessionStorage for session ones. Web Storage has no
// expiry, so each value is stored as "<expiry epoch seconds, 0 = none> <value>" and an
// expired one is removed when read.
const del = (name: string) => {
  localStorage.removeItem(name);
  sessionStorage.removeItem(name);
};
export const web: Backend = {
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
  del,
};
