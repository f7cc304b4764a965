// A build's chunks are served at `chunks/<key>/poplet.ui.js` (and poplet.collect.js) next to the
// core, the key being the first hex digits of a SHA-256 of both. The build writes them to
// dist/chunks/<key>/; the server answers for a key of this shape from there.
export const CHUNKS_HASH_LENGTH = 12;

export const CHUNK_FILES = ['poplet.ui.js', 'poplet.collect.js'] as const;

export const isChunksHash = (v: unknown): v is string => typeof v == 'string' && v.length == CHUNKS_HASH_LENGTH && /^[0-9a-f]+$/.test(v);
