// The debug log: silent unless debug mode is on (option `debug: true` or `?poplet_debug=1`).
// Everything that goes wrong in the browser ends up here instead of in the host page.
export interface Log {
  (message: string, data?: unknown): void;
  on?: boolean;
}

export const createLog = (on?: boolean): Log => {
  const log: Log = (message, data) => {
    // eslint-disable-next-line no-console -- the console is the debug log's only output
    if (log.on) console.log('[poplet] ' + message, ...(data === undefined ? [] : [data]));
  };
  log.on = on;
  return log;
};
