// Where the records physically live: first-party cookies or Web Storage.
// A backend moves raw strings; `days` undefined means "for the browser session only".

export interface Backend {
  get(name: string): string | null | undefined;
  set(name: string, value: string, days?: number): void;
  del(name: string): void;
}

// Cookies are read and written byte for byte as js-cookie 3 (which Poplet used before) does, with
// only what the records need: their fixed `wisepops*` names need no encoding, values keep the
// characters cookies allow as is, and the attributes come in js-cookie's order.

/** `domain()`: the shared cookie domain currently configured, if any. */
export const cookies = (domain: () => string | undefined): Backend => {
  /** `shared`: with SameSite, Secure on https and the shared domain (else the path alone). Days < 0 delete. */
  const put = (name: string, value: string, days?: number, shared = true) => {
    const d = domain();
    document.cookie =
      name + '=' + encodeURIComponent(value).replace(/%(2[346BF]|3[AC-F]|40|5[BDE]|60|7[BCD])/g, decodeURIComponent) + '; path=/' +
      (shared ? '; sameSite=Lax' + (location.protocol == 'https:' ? '; secure' : '') + (d ? '; domain=' + d.split(';')[0] : '') : '') +
      (days == null ? '' : '; expires=' + new Date(Date.now() + days * 864e5).toUTCString());
  };
  return {
    // The first cookie of that name that decodes; a malformed one is skipped.
    get(name) {
      for (const c of document.cookie.split('; ')) {
        const [k, ...v] = c.split('=');
        try {
          if (decodeURIComponent(k) == name) {
            const s = v.join('=');
            return (s[0] == '"' ? s.slice(1, -1) : s).replace(/(%[\dA-F]{2})+/gi, decodeURIComponent);
          }
        } catch {
          // bad percent-encoding: not this one
        }
      }
    },
    set: put,
    // Also the host-only copy: one left from before a cookieDomain was set comes first in
    // document.cookie and would shadow the shared cookie for good.
    del: (name) => (put(name, '', -1, false), put(name, '', -1)),
  };
};

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
  set(name, value, days) {
    del(name);
    if (days) localStorage.setItem(name, Math.ceil(Date.now() / 1000 + days * 86400) + ' ' + value);
    else sessionStorage.setItem(name, '0 ' + value);
  },
  del,
};
