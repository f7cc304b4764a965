// Raw HTTP/1.1 over a socket, for the tests of what node:http sees before fastify does: stalled
// requests, malformed ones, answers written on the socket, pipelined requests and their answers.
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  /** 0: the connection closed without an answer. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection (it did not stay open waiting). */
  closed: boolean;
  /** Nothing happened within the bound: the server held the connection open without answering. */
  hung: boolean;
}

export interface RawConnection {
  socket: Socket;
  send(data: string | Buffer): void;
  /** Resolves when the server closes the connection, or after `boundMs` (hung: true). */
  answer(boundMs?: number): Promise<RawAnswer>;
}

/** Parses what the server sent: one answer (the first), its head and body. */
export function parseAnswer(raw: Buffer): Omit<RawAnswer, 'closed' | 'hung'> {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = (end >= 0 ? text.slice(0, end) : text).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = end >= 0 ? raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1')) : Buffer.alloc(0);
  const length = Number(headers['content-length']);
  if (Number.isInteger(length)) body = body.subarray(0, length);
  return { status, headers, body: body.toString('utf8') };
}

/** Opens a connection to `url`'s host and port; `send` writes raw bytes. */
export async function rawConnect(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((ok, fail) => {
    socket.once('connect', ok);
    socket.once('error', fail);
  });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  const ended = new Promise<void>((ok) => socket.once('close', () => ((closed = true), ok())));
  return {
    socket,
    send: (data) => void socket.write(data),
    async answer(boundMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([ended, new Promise<void>((ok) => (timer = setTimeout(ok, boundMs)))]);
      clearTimeout(timer);
      const hung = !closed;
      if (hung) socket.destroy();
      return { ...parseAnswer(Buffer.concat(chunks)), closed, hung };
    },
  };
}

/** Sends `data` on a new connection and waits for the server to answer and close it. */
export async function rawRequest(url: string, data: string | Buffer, boundMs = 10_000): Promise<RawAnswer> {
  const c = await rawConnect(url);
  c.send(data);
  return c.answer(boundMs);
}

/** A POST /collect head for a JSON body of `length` bytes. */
export const collectHead = (length: number, extra = '') =>
  `POST /collect HTTP/1.1\r\nHost: poplet.test\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;

export interface Answer {
  status: number;
  /** Lower-cased names; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export interface Exchange {
  answers: Answer[];
  /** The server closed the connection. */
  closed: boolean;
  /** Neither all the answers awaited nor a close came within the bound. */
  hung: boolean;
  /** Bytes after the last complete answer (a partial answer, or junk). */
  trailing: Buffer;
}

/**
 * The complete answers at the start of `buf`, skipping 1xx interim ones; `head[i]`: whether the
 * i-th request was a HEAD (its answer has no body). An answer delimited by the close counts
 * only when `closed`.
 */
export function parseAnswers(buf: Buffer, head: boolean[], closed: boolean): { answers: Answer[]; rest: Buffer } {
  const answers: Answer[] = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at, 'latin1');
    if (end < 0) break;
    const lines = buf.subarray(at, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1] ?? NaN);
    if (!Number.isInteger(status)) break;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const name = line.slice(0, i).trim().toLowerCase();
      const value = line.slice(i + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    let next = end + 4;
    if (status < 200) {
      at = next;
      continue;
    }
    let body: Buffer = Buffer.alloc(0);
    const noBody = head[answers.length] || status === 204 || status === 304;
    if (!noBody) {
      if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
        const parts: Buffer[] = [];
        let p = next;
        let done = false;
        for (;;) {
          const eol = buf.indexOf('\r\n', p, 'latin1');
          if (eol < 0) break;
          const size = parseInt(buf.subarray(p, eol).toString('latin1'), 16);
          if (!Number.isInteger(size)) break;
          if (size === 0) {
            const fin = buf.indexOf('\r\n\r\n', eol, 'latin1');
            if (fin < 0) break;
            p = fin + 4;
            done = true;
            break;
          }
          if (eol + 2 + size + 2 > buf.length) break;
          parts.push(buf.subarray(eol + 2, eol + 2 + size));
          p = eol + 2 + size + 2;
        }
        if (!done) break;
        body = Buffer.concat(parts);
        next = p;
      } else if (headers['content-length'] !== undefined) {
        const n = Number(headers['content-length']);
        if (next + n > buf.length) break;
        body = buf.subarray(next, next + n);
        next += n;
      } else {
        if (!closed) break;
        body = buf.subarray(next);
        next = buf.length;
      }
    }
    answers.push({ status, headers, body });
    at = next;
  }
  return { answers, rest: buf.subarray(at) };
}

export interface ExchangeOptions {
  /** Answers awaited. */
  want: number;
  /** Which requests are HEADs (their answers have no body). */
  head: boolean[];
  boundMs: number;
  /** Between two parts, so the server reads them as separate packets. */
  gapMs?: number;
  /** Then ends the client's side (FIN), as a client that has nothing more to send may. */
  halfClose?: boolean;
  /** Then resets the connection this long after the last part, whatever arrived. */
  abortAfterMs?: number;
}

/**
 * Opens a connection, writes `parts`, and reads until `want` answers are complete, the server
 * closes, or `boundMs` passes (hung).
 */
export async function exchange(url: string, parts: Buffer[], opts: ExchangeOptions): Promise<Exchange> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  let closed = false;
  return new Promise<Exchange>((resolve) => {
    let settled = false;
    const finish = (hung: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const { answers, rest } = parseAnswers(Buffer.concat(chunks), opts.head, closed);
      resolve({ answers, closed, hung, trailing: rest });
    };
    const timer = setTimeout(() => finish(true), opts.boundMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (parseAnswers(Buffer.concat(chunks), opts.head, false).answers.length >= opts.want) finish(false);
    });
    // A reset after the server answered and closed (it stopped reading what was left) is a close.
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      finish(false);
    });
    socket.once('connect', async () => {
      for (const [i, part] of parts.entries()) {
        if (socket.destroyed) return;
        if (i > 0 && opts.gapMs) await new Promise((ok) => setTimeout(ok, opts.gapMs));
        socket.write(part);
      }
      if (opts.halfClose) socket.end();
      if (opts.abortAfterMs !== undefined) {
        setTimeout(() => {
          socket.resetAndDestroy();
          finish(false);
        }, opts.abortAfterMs);
      }
    });
  });
}

/**
 * Sends `requests` one after another on one connection, each once the previous one's answer has
 * arrived, as a keep-alive client does; stops after an answer that closes the connection (or a
 * close). `head[i]`: whether request i is a HEAD.
 */
export async function converse(url: string, requests: Buffer[], head: boolean[], boundMs: number): Promise<Exchange> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let buf = Buffer.alloc(0);
  let closed = false;
  let wake: (() => void) | undefined;
  socket.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    wake?.();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  socket.on('connect', () => wake?.());
  const deadline = Date.now() + boundMs;
  const until = async (done: () => boolean): Promise<boolean> => {
    while (!done()) {
      if (closed || Date.now() > deadline) return done();
      await new Promise<void>((ok) => {
        const timer = setTimeout(ok, Math.max(0, deadline - Date.now()));
        wake = () => {
          clearTimeout(timer);
          ok();
        };
      });
    }
    return true;
  };
  const answered = () => parseAnswers(buf, head, closed).answers;
  await until(() => !socket.connecting);
  let hung = false;
  for (const [i, request] of requests.entries()) {
    if (closed) break;
    socket.write(request);
    if (!(await until(() => answered().length > i))) {
      hung = !closed;
      break;
    }
    if (/close/i.test(answered()[i]!.headers.connection ?? '')) {
      // It said it closes: it must.
      hung = !(await until(() => closed));
      break;
    }
  }
  socket.destroy();
  const { answers, rest } = parseAnswers(buf, head, closed);
  return { answers, closed, hung, trailing: rest };
}

/** A request's bytes: the request line, the header lines as given, the body. */
export function requestBytes(line: string, headers: Array<[string, string | Buffer]>, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.concat([
    Buffer.from(`${line}\r\n`, 'utf8'),
    ...headers.map(([n, v]) => Buffer.concat([Buffer.from(`${n}: `, 'latin1'), typeof v === 'string' ? Buffer.from(v, 'latin1') : v, Buffer.from('\r\n')])),
    Buffer.from('\r\n'),
  ]);
  return Buffer.concat([head, body]);
}
