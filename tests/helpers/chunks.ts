// The global the built UI chunk registers under: esbuild.config.ts stamps the bundles with
// package.json's version (src/sdk/version.ts), so test pages that drive dist/ use this name.
import { readFileSync } from 'node:fs';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
export const BUILT_UI_GLOBAL = '__popletUi@' + version;
