// The HTTP application: parsers, limits, security headers, CORS scope, errors and request logs
// around the routes. Built from plain dependencies so tests and the CLI share it.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { httpsPolicy, isLoopbackHost, type ServerDeps } from './config';
import { createSiteCache } from './site-cache';
import { createOriginRefusals } from './routes/context';
import { createSignupWriter } from './store/signup-writer';
import { createJournal } from './lifecycle/journal';
import { registerCollectRoute } from './routes/collect';
import { createEventCounter, registerEventsRoute } from './routes/events';
import { registerApiRoutes } from './routes/api';
import { registerPublicRoutes } from './routes/public';
import { registerHookRoutes } from './hooks/routes';
import { registerErasureRoutes } from './lifecycle/routes';
import { afterAnswers, answerOnSocket, responseStarted, trackConnections } from './connections';
import { strictJsonParser } from './json-body';

export const BODY_LIMIT = 16 * 1024;
const CORS_PATHS = ['/collect', '/events'];

// Route registrars of other areas (issue 7: hooks API, erasure).
const EXTRA_ROUTES: Array<(app: FastifyInstance, deps: ServerDeps) => void> = [registerHookRoutes, registerErasureRoutes];

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  // API answers carry e-mail addresses: no shared or browser cache may keep them. Cacheable
  // routes (campaigns.json, the SDK files) set their own.
  'cache-control': 'no-store',
};
const SECURITY_ENTRIES = Object.entries(SECURITY_HEADERS);

/** Fastify's own errors, mapped to JSON `{error}` with a status a client can act on. */
function errorStatus(err: FastifyError, bodyLimit: number): [number, string] {
  if (err.validation) return [400, `${err.validationContext ?? 'request'}${err.validation[0]?.instancePath || ''} ${err.validation[0]?.message ?? 'is invalid'}`.trim()];
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [413, `body: larger than ${bodyLimit / 1024} KB`];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [415, 'body: send application/json or text/plain'];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return [400, 'body: empty'];
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return [400, 'body: not valid JSON'];
  }
  if (err instanceof SyntaxError) return [400, 'body: not valid JSON'];
  // A full disk: a condition of the server, not of the request, which may be sent again once there
  // is room (SQLite rolled its transaction back); the SDK's outbox keeps a sign-up meanwhile.
  if ((err.code as string) === 'SQLITE_FULL' || (err.code as string) === 'ENOSPC') return [503, 'the server is out of disk space: retry later'];
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  return [status, status === 500 ? 'internal error' : err.message];
}

/** The error statuses a client of this server is told it can get (README, HTTP API). */
const CLIENT_STATUSES = new Set([400, 401, 403, 404, 413, 415, 422, 429]);

/**
 * Fastify's errors raised before a route is found, as a JSON answer. A path parameter over
 * fastify's 100 characters (its 414) names nothing that exists: no site id, chunk key or other
 * parameter is that long, so 404 like any unknown path. Other client errors keep their status when
 * it is one of ours, else 400; never their message, which quotes the URL.
 */
function frameworkAnswer(err: FastifyError): [number, string] {
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return [400, 'url: not a valid URL (malformed percent-encoding)'];
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return [404, 'not found'];
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return [CLIENT_STATUSES.has(status) ? status : 400, 'request: not valid'];
  return [500, 'internal error'];
}

/**
 * The request came over TLS: on this socket, or as X-Forwarded-Proto says when the socket's peer
 * is a trusted proxy (fastify's request.protocol ignores the header from anyone else). Trusted
 * means listed when POPLET_TRUST_PROXY is an address list; with `true` or a hop count no address
 * is named, so every peer is taken for the proxy, a client reaching the server directly included
 * (buildApp warns when the server can be reached from elsewhere).
 */
function overHttps(request: FastifyRequest): boolean {
  return request.protocol?.toLowerCase() === 'https';
}

function secureHeaders(request: FastifyRequest, reply: FastifyReply): void {
  // Routes may have set their own (public files are cross-origin): keep theirs.
  for (const [name, value] of SECURITY_ENTRIES) if (!reply.hasHeader(name)) reply.header(name, value);
  if (overHttps(request)) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
}

const HTTPS_REQUIRED =
  'https required: this server answers its API over HTTPS only (POPLET_REQUIRE_HTTPS), and this request came over plain http, ' +
  'so its API key may have crossed the network unencrypted (rotate it with `poplet site rotate-key` if so). Behind a TLS proxy, ' +
  'set POPLET_TRUST_PROXY and have the proxy send X-Forwarded-Proto.';

const hops = (n: number) => (_address: string, hop: number) => hop < n;

/** Headers a proxy adds: a request with one reached a server that trusts no proxy through one. */
const FORWARDED = ['x-forwarded-for', 'x-forwarded-proto'] as const;

/**
 * Errors node:http raises on a connection, before or while a request is read (no route, no
 * fastify reply): an answer written on the socket, JSON with the security headers, then the
 * connection closed. A request that did not arrive in full within POPLET_REQUEST_TIMEOUT gets
 * 408, which clients retry (the SDK's outbox keeps the sign-up): it is not malformed, only slow or
 * cut, and a 400 would have a client drop a valid sign-up.
 */
function clientErrorAnswer(err: NodeJS.ErrnoException, timeoutMs: number): [number, string] {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, `request timeout: the request did not arrive in full within ${Math.round(timeoutMs / 100) / 10} s`];
  // node's limit on the header block (--max-http-header-size): 431 is not one of our statuses.
  if (err.code === 'HPE_HEADER_OVERFLOW') return [400, 'headers: larger than 16 KB'];
  return [400, 'request: malformed HTTP'];
}

/** A JSON answer written by node:http's response object, outside fastify (its routes never saw the request). */
function answerOutsideFastify(res: ServerResponse, status: number, error: string): void {
  const body = JSON.stringify({ error });
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
}

export function buildApp(deps: ServerDeps): FastifyInstance {
  const { config, log } = deps;
  const timeoutMs = config.requestTimeoutMs;
  /** Connections whose malformed request is answered, or will be once the requests before it are. */
  const refused = new WeakSet<Socket>();
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    // node:http's own limit on receiving a request (headers and body), which fastify sets to 0
    // (none): a client that stops sending held its connection, and a shutdown, forever. Checked
    // every connectionsCheckingInterval (node's default: 30 s), so within a quarter of it here.
    requestTimeout: timeoutMs,
    // requireHostHeader off: node answered an HTTP/1.1 request without Host with an empty 400 of
    // its own; the onRequest hook below answers it in JSON.
    http: {
      connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(timeoutMs / 4))),
      requestTimeout: timeoutMs,
      headersTimeout: timeoutMs,
      requireHostHeader: false,
    },
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      // Reset by the peer, already closed, or already being answered (node's parser reports its
      // error again on every read after the first): nothing more to say.
      if (err.code === 'ECONNRESET' || socket.destroyed || refused.has(socket)) return;
      refused.add(socket);
      afterAnswers(socket, () => {
        // A response already under way on this connection cannot be followed by another one.
        if (responseStarted(socket)) {
          socket.destroy();
          return;
        }
        const [status, error] = clientErrorAnswer(err, timeoutMs);
        if (config.logRequests) log.info({ status, error: err.code ?? 'client error' }, 'client error');
        answerOnSocket(socket, status, error, SECURITY_ENTRIES);
      });
    },
    // A hop count trusts that many proxies in front (the typings lack fastify's number form).
    trustProxy: typeof config.trustProxy === 'number' ? hops(config.trustProxy) : config.trustProxy,
    logger: false,
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true } },
    // Errors raised before routing (a malformed percent-escape in the path, a path parameter
    // over 100 characters) skip the error handler and the onSend hook: without this they got
    // fastify's own body and no security headers. Their messages quote the URL, which logs never
    // carry: only the code is logged, and only for a 5xx.
    frameworkErrors: (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const [status, error] = frameworkAnswer(err);
      if (status >= 500) log.error({ req: request.id, code: err.code, status: err.statusCode }, 'request failed');
      secureHeaders(request, reply);
      void reply.code(status).send({ error });
    },
  });

  // Shutdown (app.close()): connections with nothing in flight close at once, and requests in
  // flight get the lesser of config.shutdownGraceMs and the request timeout to finish, then
  // their connections are closed: a client that stalls, or reads no answer, cannot hold it.
  const connections = trackConnections(app.server);
  app.addHook('preClose', async () => {
    connections.closing(Math.min(config.shutdownGraceMs, timeoutMs), (open) =>
      log.warn({ ...open }, 'shutdown: closing connections whose requests did not finish in time (requests still arriving were never answered; their clients send them again)'),
    );
  });

  // What node:http answered by itself, with an empty body and none of our headers, or not at all:
  // - an Expect other than 100-continue (its 417): a JSON 400, the request not handled;
  app.server.on('checkExpectation', (request, res) => {
    if (config.logRequests) log.info({ method: request.method, route: 'unmatched', status: 400 }, 'request');
    answerOutsideFastify(res, 400, 'expect: only 100-continue is supported');
  });
  // - CONNECT (it dropped the connection): no path here is a proxy target, so the 404 of any
  //   method and path this server does not serve;
  app.server.on('connect', (_request, socket) => {
    if (config.logRequests) log.info({ method: 'CONNECT', route: 'unmatched', status: 404 }, 'request');
    answerOnSocket(socket, 404, 'not found', SECURITY_ENTRIES);
  });
  // - an HTTP/1.1 request without Host (RFC 9112 requires one; HTTP/1.0 may omit it): first of
  //   every hook, so nothing else runs for it.
  app.addHook('onRequest', async (request, reply) => {
    if (request.raw.httpVersion !== '1.1' || request.headers.host !== undefined) return;
    reply.header('connection', 'close');
    return reply.code(400).send({ error: 'host: an HTTP/1.1 request needs a Host header' });
  });

  const sites = createSiteCache(deps.db);
  const refusals = createOriginRefusals(log);
  const writer = createSignupWriter(deps.db);
  const counter = createEventCounter(deps);
  const journal = config.journalDir ? createJournal(config.journalDir, { log }) : null;

  // sendBeacon posts strings as text/plain (no CORS preflight): the body is JSON all the same,
  // read by the one strict parser (json-body.ts) whatever its type.
  const strictJson = strictJsonParser(app.getDefaultJsonParser('error', 'error'));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, strictJson);
  app.addContentTypeParser('text/plain', { parseAs: 'buffer' }, strictJson);

  app.addHook('onSend', async (request, reply) => secureHeaders(request, reply));

  // The API carries API keys one way and e-mail addresses the other: with HTTPS required it
  // refuses plain http before the key is even looked at (no redirect: the key has already been
  // sent, and a client that follows it would send it again). Decided on the matched route, not
  // the raw URL, so a percent-encoded path (/%61pi1/emails) cannot slip past. /collect and
  // /events stay open: a browser on an https page cannot reach an http server anyway (mixed
  // content), and a page served over http already sent its form in clear; refusing them would
  // only lose sign-ups. The public files and campaign set carry nothing secret.
  const https = httpsPolicy(config);
  if (https.required) {
    app.addHook('onRequest', async (request, reply) => {
      if (overHttps(request) || !request.routeOptions.url?.startsWith('/api1/')) return;
      return reply.code(403).send({ error: HTTPS_REQUIRED });
    });
    log.info({ why: https.why }, 'HTTPS required for the API and hook targets');
  } else if (!isLoopbackHost(config.host)) {
    log.warn({ host: config.host, why: https.why }, 'HTTPS not required: API keys, addresses and hook payloads may cross the network unencrypted');
  }
  // `true` or a hop count names no proxy address: any client that reaches the server directly is
  // taken for the proxy, its X-Forwarded-For for the visitor's IP (rate limits) and its
  // X-Forwarded-Proto for HTTPS. Harmless on loopback, where only this machine connects.
  if ((config.trustProxy === true || typeof config.trustProxy === 'number') && !isLoopbackHost(config.host)) {
    log.warn(
      { host: config.host, trustProxy: config.trustProxy },
      `POPLET_TRUST_PROXY=${String(config.trustProxy)} trusts whoever connects: a client reaching ${config.host} directly, not through the proxy, ` +
        'can claim any IP and HTTPS (X-Forwarded-For, X-Forwarded-Proto). Set it to the proxy\'s addresses instead (e.g. 10.0.0.2 or 172.16.0.0/12), ' +
        'or make the server reachable from the proxy only',
    );
  }
  // On loopback with no trusted proxy, X-Forwarded-* headers mean a proxy on this machine the
  // server was not told of: behind it every visitor has its IP for the rate limits, and HTTPS is
  // judged on the proxy's plain-http connection (POPLET_REQUIRE_HTTPS=auto, seeing a loopback
  // listener and no proxy, leaves it off). Said once, at the first such request. Not beyond
  // loopback, where a visitor's own forward proxy adds X-Forwarded-For as well.
  if (config.trustProxy === false && isLoopbackHost(config.host)) {
    let told = false;
    app.addHook('onRequest', async (request) => {
      if (told || !FORWARDED.some((h) => request.headers[h] !== undefined)) return;
      told = true;
      log.warn(
        { host: config.host, https: https.why },
        'a request came through a proxy on this machine (X-Forwarded-For or X-Forwarded-Proto) but POPLET_TRUST_PROXY is not set: ' +
          'its headers are ignored, so every visitor has the proxy\'s IP for the rate limits and ' +
          (https.required ? 'the API refuses every request as plain http (403)' : 'HTTPS is not required') +
          '. Set POPLET_TRUST_PROXY=127.0.0.1 (with it, HTTPS is required by default)',
      );
    });
  }

  if (config.logRequests) {
    // Route patterns, never URLs or bodies: no address or field value reaches the logs.
    app.addHook('onResponse', async (request, reply) => {
      log.info(
        {
          req: request.id,
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          site: request.site?.id ?? (request.params as { siteId?: string } | undefined)?.siteId,
        },
        'request',
      );
    });
  }

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const [status, message] = errorStatus(err, request.routeOptions.bodyLimit);
    if (status >= 500) log.error({ req: request.id, err }, 'request failed');
    if (status === 503) reply.header('retry-after', '60');
    return reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not found' }));

  // CORS only where browsers post sign-ups and events: /collect and /events, for any origin.
  // Preflights carry no body, so no site to check against; the route then checks the origin
  // against the one site the body names and refuses with a 403 the page can read. Refusing the
  // preflight instead made the browser see a network error, which the outbox keeps and retries
  // forever while the form shows a success. Safe for any origin: these routes use no cookies
  // (the SDK sends credentials: 'omit' and no Allow-Credentials is sent) and answer nothing secret.
  // Written here rather than with @fastify/cors, which built its options again for every request
  // (4 % of the CPU a sign-up takes, tests/bench/server.ts) and answered preflights of every URL
  // from a route of its own that escaped this scope.
  app.register(async (scope) => {
    // onRequest: before the body is read, so the 400 and 413 of a bad body are readable too.
    scope.addHook('onRequest', (request, reply, done) => {
      reply.header('vary', 'Origin');
      if (request.headers.origin !== undefined) reply.header('access-control-allow-origin', request.headers.origin);
      done();
    });
    for (const path of CORS_PATHS) {
      // Without Access-Control-Request-Method an OPTIONS is no preflight (browsers always send
      // one), but it gets the same 204 rather than an error. Without an Origin it is no CORS at
      // all: the 404 of a method the route does not serve.
      scope.options(path, (request, reply) => {
        if (request.headers.origin === undefined) return reply.callNotFound();
        void reply
          .headers({ 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '86400' })
          .code(204)
          .send();
      });
    }
    registerCollectRoute(scope, { ...deps, sites, writer, journal, refusals });
    registerEventsRoute(scope, { ...deps, sites, counter, refusals });
    // CORS answers from these routes only: the sign-up/analytics endpoints are readable cross-origin.
    scope.addHook('onSend', async (_request, reply) => {
      reply.header('cross-origin-resource-policy', 'cross-origin');
    });
  });

  registerPublicRoutes(app, { ...deps, sites });
  registerApiRoutes(app, deps);
  for (const register of EXTRA_ROUTES) register(app, deps);

  app.addHook('onClose', async () => {
    writer.flush();
    counter.stop();
    journal?.close();
  });
  return app;
}
