// The debug log: silent unless debug mode is on (option `debug: true` or `?poplet_debug=1`).
// Everything that goes wrong in the browser ends up here instead of in the host page.
import { safe } from './guard';
export interface Log {
  (message: string, data?: unknown): void;
  on?: boolean;
}

export const createLog = (on?: boolean): Log => {
  const log: Log = (message, data) => {
    // Guarded: a page that silenced its console (console.log = null, or one that throws) would
    // otherwise get the error back from every catch that logs, and from wisepops() itself.
    // eslint-disable-next-line no-console -- the console is the debug log's only output
    if (log.on) safe(() => console.log('[poplet] ' + message, ...(data === undefined ? [] : [data])));
  };
  log.on = on;
  return log;
};
