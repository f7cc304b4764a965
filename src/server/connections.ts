// The HTTP connections under the routes: what a client that stops sending gets, answers written
// on the socket itself (errors node:http raises before a request exists, which fastify's error
// handlers never see), and a shutdown that cannot be held open by a client.
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Writes a complete JSON error answer on a socket that has no response object to write it with
 * (or whose response cannot be used), then closes the connection once it is written. `headers`:
 * the security headers every answer carries. Never throws.
 */
export function answerOnSocket(socket: Duplex, status: number, error: string, headers: ReadonlyArray<[string, string]>): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    ...headers.map(([name, value]) => `${name}: ${value}`),
  ];
  // A few hundred bytes the kernel takes at once; a peer that reads nothing cannot hold the socket.
  const hold = setTimeout(() => socket.destroy(), 1_000);
  hold.unref();
  try {
    if (socket.writable) socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
    else socket.destroy();
  } catch {
    socket.destroy();
  }
}

/** Whether a response was started on this socket (its status line is out): nothing more may be written on it. */
export function responseStarted(socket: Duplex): boolean {
  const current = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  return !!current && current.headersSent;
}

/**
 * Runs `then` once every request received in full on this socket has been answered: node:http
 * reads pipelined requests ahead of their answers, so a malformed one can follow requests still
 * being handled, whose answers must go first (a sign-up's 201 replaced by the 400 of what came
 * after it looks refused to its client). A request still arriving (its own body malformed, or
 * cut) will never be answered: `then` does not wait for it.
 */
export function afterAnswers(socket: Duplex, then: () => void): void {
  if (socket.destroyed) return;
  const current = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  // An answer stays attached until its 'close' (even once written), and node attaches the next
  // pipelined one before that.
  if (current && current.req.complete) current.once('close', () => afterAnswers(socket, then));
  else then();
}

export interface ConnectionTracker {
  /**
   * Shutdown, before the server stops listening: connections with no request in flight (idle
   * keep-alives, and those whose request line and headers have not all arrived) are closed at
   * once; each request in flight is answered with `Connection: close` and gets `graceMs` to
   * finish (a body still arriving, a handler running), after which every connection left is
   * closed. Returns how many requests were in flight.
   */
  closing(graceMs: number, onForced: (open: { connections: number; receiving: number }) => void): number;
}

/**
 * Tracks the server's connections and the request each one is handling. A sign-up whose body has
 * arrived is stored and answered within one turn of the event loop (store/signup-writer.ts), so
 * the grace's timer never interrupts its storage: a connection closed at the deadline either got
 * its answer written, or its request never reached the writer and was never acknowledged (the
 * browser's outbox sends it again).
 */
export function trackConnections(server: Server): ConnectionTracker {
  const sockets = new Map<Socket, { req: IncomingMessage; res: ServerResponse } | null>();
  let shuttingDown = false;
  server.on('connection', (socket: Socket) => {
    // Read at once: node keeps the peer's address once read, and fastify reads it (request.ip)
    // only when a route asks, by which time a client that reset its connection after sending a
    // sign-up in full has taken it with it (routes/context.ts, visitorIp).
    void socket.remoteAddress;
    sockets.set(socket, null);
    socket.once('close', () => sockets.delete(socket));
  });
  const started = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    if (!sockets.has(socket)) return;
    sockets.set(socket, { req, res });
    if (shuttingDown && !res.headersSent) res.setHeader('connection', 'close');
    res.once('close', () => {
      if (sockets.get(socket)?.res === res) sockets.set(socket, null);
    });
  };
  // Before fastify's own listener: 'request' listeners run in order, and fastify may answer at once.
  server.prependListener('request', started);

  return {
    closing(graceMs, onForced) {
      shuttingDown = true;
      let inFlight = 0;
      for (const [socket, current] of sockets) {
        if (!current) {
          socket.destroy();
          continue;
        }
        inFlight += 1;
        if (!current.res.headersSent) current.res.setHeader('connection', 'close');
      }
      if (inFlight === 0) return 0;
      const deadline = setTimeout(() => {
        if (!sockets.size) return;
        let receiving = 0;
        for (const current of sockets.values()) if (current && !current.req.complete) receiving += 1;
        onForced({ connections: sockets.size, receiving });
        for (const socket of sockets.keys()) socket.destroy();
      }, graceMs);
      deadline.unref();
      server.once('close', () => clearTimeout(deadline));
      return inFlight;
    },
  };
}
