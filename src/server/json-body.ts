// Request bodies as text: UTF-8, strictly. Decoded leniently, a byte that is not UTF-8 (0xFF, a
// truncated or overlong sequence, an encoded surrogate) became U+FFFD, and a sign-up was stored
// with an address or a field the visitor never typed, which erasure could not match: what the
// well-formed check refuses for a lone surrogate escape. A byte order mark is dropped, as before.
import type { FastifyInstance, FastifyRequest } from 'fastify';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export const NOT_UTF8 = 'body: not valid UTF-8';

/** The body's text, or a 400 error for fastify's parser callback. */
export function decodeBody(body: Buffer): string | Error {
  try {
    return utf8.decode(body);
  } catch {
    return Object.assign(new Error(NOT_UTF8), { statusCode: 400 });
  }
}

/** Why a body cannot be read as the UTF-8 text it must be: a content coding, or a charset other than UTF-8. */
function unsupportedEncoding(request: FastifyRequest): string | null {
  const coding = request.headers['content-encoding']?.trim().toLowerCase();
  if (coding && coding !== 'identity') return `body: content-encoding ${coding.slice(0, 40)} is not supported: send it uncompressed`;
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(request.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8') return `body: charset ${charset.slice(0, 40)} is not supported: send UTF-8`;
  return null;
}

type JsonParser = ReturnType<FastifyInstance['getDefaultJsonParser']>;

/**
 * The content-type parser (parseAs 'buffer') of every JSON body, sent as application/json or
 * text/plain: a compressed body, or one in another charset, is a 415 (decoded, it would be read as
 * UTF-8 JSON: a misleading 400, or other text than was sent), then strict UTF-8, then `json`,
 * fastify's own parser, which refuses __proto__ / constructor.prototype keys. With `emptyIsNone`,
 * an empty body is no body rather than a 400.
 */
export function strictJsonParser(json: JsonParser, emptyIsNone = false) {
  return (request: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void): void => {
    const unreadable = unsupportedEncoding(request);
    if (unreadable) return done(Object.assign(new Error(unreadable), { statusCode: 415 }));
    const text = decodeBody(body);
    if (text instanceof Error) return done(text);
    if (emptyIsNone && text.trim() === '') return done(null, undefined);
    json(request, text, done);
  };
}
