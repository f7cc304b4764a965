// `npm run build`: the core IIFE, the lazily loaded UI and collection chunks, the install snippet
// and the type declarations, all into dist/.
import { build, type BuildOptions } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { snippetFor } from './src/sdk/snippet';
import { CHUNKS_HASH_LENGTH } from './src/shared/chunks';

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

// The chunks first: the core asks for them as `poplet.ui.js?v=<hash of both>`, a URL whose content
// never changes, so browsers may cache it for good. Each build's chunks are also kept in
// dist/chunks/<hash>/ (the last KEEP builds): after an upgrade, a visitor whose browser still runs
// the cached old core is served the chunks that core was built with.
const KEEP = 20;
const [ui, collect] = await Promise.all([
  build({ ...common, entryPoints: ['src/sdk/render/index.tsx'], write: false, jsx: 'automatic', jsxImportSource: 'preact' }),
  build({ ...common, entryPoints: ['src/sdk/collect/index.ts'], write: false }),
]);
const chunks = { 'poplet.ui.js': ui.outputFiles[0].contents, 'poplet.collect.js': collect.outputFiles[0].contents };
const hash = createHash('sha256').update(chunks['poplet.ui.js']).update(chunks['poplet.collect.js']).digest('hex').slice(0, CHUNKS_HASH_LENGTH);
mkdirSync(`dist/chunks/${hash}`, { recursive: true });
for (const [name, bytes] of Object.entries(chunks)) {
  writeFileSync(`dist/${name}`, bytes);
  writeFileSync(`dist/chunks/${hash}/${name}`, bytes);
}
// Touched, so a rebuild of the same chunks counts as recent.
utimesSync(`dist/chunks/${hash}`, new Date(), new Date());
const kept = readdirSync('dist/chunks').sort((a, b) => statSync(`dist/chunks/${b}`).mtimeMs - statSync(`dist/chunks/${a}`).mtimeMs);
for (const old of kept.slice(KEEP)) rmSync(`dist/chunks/${old}`, { recursive: true, force: true });

await build({ ...common, define: { ...common.define, POPLET_CHUNKS: JSON.stringify(hash) }, entryPoints: ['src/sdk/index.ts'], outfile: 'dist/poplet.js' });

const example = snippetFor('https://popups.example.com/poplet.js?site=YOUR_SITE_ID');
writeFileSync('dist/snippet.min.js', example);
writeFileSync('dist/snippet.html', `<!-- Poplet: paste in <head> -->\n<script>${example}</script>\n`);
copyFileSync('src/sdk/global.d.ts', 'dist/poplet.d.ts');
