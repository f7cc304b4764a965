// The Poplet version the bundles were built from (package.json), set by esbuild.config.ts. The
// chunks register under it, so two installs of different versions on one page never run each
// other's chunk. Outside a build (unit tests) it is 'dev'.
declare const POPLET_VERSION: string | undefined;

export const VERSION = typeof POPLET_VERSION == 'string' ? POPLET_VERSION : 'dev';
