// Code that runs from the host page (listeners, timers, promises, component callbacks) goes
// through this wrapper: an error becomes a debug line, never an exception in the page.
export const guarded =
  (log: (message: string, data?: unknown) => void, label: string) =>
  <A extends unknown[]>(f: (...a: A) => unknown) =>
  (...a: A): void => {
    try {
      f(...a);
    } catch (e) {
      log(label, e);
    }
  };

/**
 * `f()`, or undefined where it throws, silently: for what may fail and has nothing to say (storage
 * that is blocked, in a sandboxed frame or by privacy settings, throws even on reading
 * `localStorage`; a page's silenced console; a missing sendBeacon).
 */
export const safe = <T>(f: () => T) => {
  try {
    return f();
  } catch {
    // the page goes on without it
  }
};
