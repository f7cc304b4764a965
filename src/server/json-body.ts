// Request bodies as text: UTF-8, strictly. Decoded leniently, a byte that is not UTF-8 (0xFF, a
// truncated or overlong sequence, an encoded surrogate) became U+FFFD, and a sign-up was stored
// with an address or a field the visitor never typed, which erasure could not match: what the
// well-formed check refuses for a lone surrogate escape. A byte order mark is dropped, as before.
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
