// `npm run build`: the core IIFE, the lazily loaded UI and collection chunks, the install snippet
// and the type declarations, all into dist/.
import { build, type BuildOptions } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { snippetFor } from './src/sdk/snippet';
import { CHUNKS_HASH_LENGTH, isChunksHash } from './src/shared/chunks';
import { collectMangle, coreMangle, uiMangle } from './src/sdk/internal-keys';

const common: BuildOptions = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2018',
  platform: 'browser',
  legalComments: 'none',
  // A popup script must never carry eval() or new Function() (strict CSP sites forbid both).
  supported: { 'dynamic-import': false },
  // The chunks' globals carry the version (src/sdk/version.ts).
  define: { 'process.env.NODE_ENV': '"production"', POPLET_VERSION: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version) },
  logLevel: 'warning',
};

mkdirSync('dist', { recursive: true });

// The chunks first: the core asks for them at `chunks/<hash of both>/poplet.ui.js` next to itself,
// a URL whose bytes never change, so browsers and CDNs may cache it for good. The last KEEP builds'
// chunks stay in dist/chunks/ (listed oldest first in builds.json, since copying the folder
// resets its dates): after an upgrade, a visitor whose browser still runs the cached old core is
// served the chunks that core was built with.
const KEEP = 20;
const [ui, collect] = await Promise.all([
  build({ ...common, ...uiMangle(), entryPoints: ['src/sdk/render/index.tsx'], write: false, jsx: 'automatic', jsxImportSource: 'preact' }),
  build({ ...common, ...collectMangle(), entryPoints: ['src/sdk/collect/index.ts'], write: false }),
]);
const chunks = { 'poplet.ui.js': ui.outputFiles[0].contents, 'poplet.collect.js': collect.outputFiles[0].contents };
const hash = createHash('sha256').update(chunks['poplet.ui.js']).update(chunks['poplet.collect.js']).digest('hex').slice(0, CHUNKS_HASH_LENGTH);
// A server may be reading dist/ while this runs: each file appears whole (written aside, then
// renamed), and a build's folder, whose bytes the hash fixes, is never written twice.
const put = (path: string, bytes: Uint8Array | string) => (writeFileSync(path + '.tmp', bytes), renameSync(path + '.tmp', path));
mkdirSync(`dist/chunks/${hash}`, { recursive: true });
for (const [name, bytes] of Object.entries(chunks)) {
  put(`dist/${name}`, bytes);
  if (!existsSync(`dist/chunks/${hash}/${name}`)) put(`dist/chunks/${hash}/${name}`, bytes);
}
const LIST = 'dist/chunks/builds.json';
let builds: string[] = [];
try {
  builds = (JSON.parse(readFileSync(LIST, 'utf8')) as unknown[]).filter(isChunksHash);
} catch {
  // First build, or a list lost: start one (folders it does not name are left alone).
}
builds = builds.filter((b) => b != hash).concat(hash);
for (const old of builds.slice(0, -KEEP)) rmSync(`dist/chunks/${old}`, { recursive: true, force: true });
put(LIST, JSON.stringify(builds.slice(-KEEP)));

const core = await build({ ...common, define: { ...common.define, POPLET_CHUNKS: JSON.stringify(hash) }, ...coreMangle(), entryPoints: ['src/sdk/index.ts'], write: false });
put('dist/poplet.js', core.outputFiles[0].contents);

const example = snippetFor('https://popups.example.com/poplet.js?site=YOUR_SITE_ID');
writeFileSync('dist/snippet.min.js', example);
writeFileSync('dist/snippet.html', `<!-- Poplet: paste in <head> -->\n<script>${example}</script>\n`);
copyFileSync('src/sdk/global.d.ts', 'dist/poplet.d.ts');
