// Structured logs: one JSON object per line on a stream (stdout by default). The call shape is
// pino's, `log.info({fields}, 'message')`, so the hooks worker and fastify idioms read the same.
// Callers never pass e-mail addresses or form values: only ids, statuses and timings.
export interface Log {
  info(fields: object, msg?: string): void;
  warn(fields: object, msg?: string): void;
  error(fields: object, msg?: string): void;
}

type Sink = { write(line: string): unknown };

function line(level: string, fields: object, msg?: string): string {
  const out: Record<string, unknown> = { time: new Date().toISOString(), level };
  if (msg) out.msg = msg;
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? { message: v.message, stack: v.stack } : v;
  }
  return JSON.stringify(out) + '\n';
}

export function createLog(sink: Sink = process.stdout): Log {
  return {
    info: (fields, msg) => void sink.write(line('info', fields, msg)),
    warn: (fields, msg) => void sink.write(line('warn', fields, msg)),
    error: (fields, msg) => void sink.write(line('error', fields, msg)),
  };
}

/** For tests and tools that want quiet. */
export const silentLog: Log = { info() {}, warn() {}, error() {} };
