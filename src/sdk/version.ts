// What the bundles were built from, set by esbuild.config.ts. VERSION (package.json's): the chunks
// register under it, so two installs of different versions on one page never run each other's
// chunk. CHUNKS: the key of this build's chunks, in their URL so a browser can cache them for
// good. Outside a build (unit tests) both are 'dev'.
declare const POPLET_VERSION: string | undefined;
declare const POPLET_CHUNKS: string | undefined;

export const VERSION = typeof POPLET_VERSION == 'string' ? POPLET_VERSION : 'dev';
export const CHUNKS = typeof POPLET_CHUNKS == 'string' ? POPLET_CHUNKS : VERSION;
