// The debug log: silent unless debug mode is on (option `debug: true` or `?poplet_debug=1`).
// Everything that goes wrong in the browser ends up here instead of in the host page.
export interface Log {
  (message: string, data?: unknown): void;
  on: boolean;
}

export function createLog(on = false): Log {
  const log = ((message: string, data?: unknown) => {
    // eslint-disable-next-line no-console -- the console is the debug log's only output
    if (log.on) console.log('[poplet] ' + message, ...(data === undefined ? [] : [data]));
  }) as Log;
  log.on = on;
  return log;
}
