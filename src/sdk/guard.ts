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
