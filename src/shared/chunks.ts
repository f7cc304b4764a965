// The key of a build's chunks in their URL (`poplet.ui.js?v=<key>`): the first hex digits of a
// SHA-256 of both chunks. The build names dist/chunks/<key>/ after it; the server serves a request
// whose `v` has this shape from that folder.
export const CHUNKS_HASH_LENGTH = 12;

export const isChunksHash = (v: unknown): v is string => typeof v == 'string' && v.length == CHUNKS_HASH_LENGTH && /^[0-9a-f]+$/.test(v);
