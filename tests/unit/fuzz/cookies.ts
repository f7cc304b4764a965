// Cookies in the SDK fuzz tests: every cookie the SDK writes, by name and size, so that a test can
// check none goes over a record's limit; and a clean slate of records between cases.

const native = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')!;

/** Every cookie written with a value since the last clearRecords, by name and encoded size (before the first ';'). */
export const written: Array<[string, number]> = [];

/** Sets a cookie past the watch: a record planted as another app (or a broken one) would leave it. */
export const plantCookie = (cookie: string): void => void native.set!.call(document, cookie);

/** From now on, every cookie written goes into `written` (deletions, which write no value, do not). */
export function watchCookies(): void {
  written.length = 0;
  Object.defineProperty(document, 'cookie', {
    configurable: true,
    get: () => native.get!.call(document),
    set: (v: string) => {
      const pair = v.split(';')[0];
      const at = pair.indexOf('=');
      if (at < pair.length - 1) written.push([pair.slice(0, at), pair.length - at - 1]);
      native.set!.call(document, v);
    },
  });
}

export function unwatchCookies(): void {
  delete (document as unknown as Record<string, unknown>).cookie;
}

/** No cookie (with or without a domain), nothing in either Web Storage, and `written` empty. */
export function clearRecords(): void {
  for (const c of native.get!.call(document).split('; ')) {
    const name = c.split('=')[0];
    if (name) for (const domain of ['', '; domain=localhost', '; domain=.localhost']) native.set!.call(document, `${name}=; max-age=0; path=/${domain}`);
  }
  localStorage.clear();
  sessionStorage.clear();
  written.length = 0;
}
