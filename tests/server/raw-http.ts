// Raw HTTP/1.1 over a socket, for the tests of what node:http sees before fastify does: stalled
// requests, malformed ones, answers written on the socket.
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
