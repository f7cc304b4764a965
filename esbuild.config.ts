// `npm run build`: the core IIFE, the lazily loaded UI and collection chunks, the install snippet
// and the type declarations, all into dist/.
import { build, type BuildOptions } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { snippetFor } from './src/sdk/snippet';

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

await Promise.all([
  build({ ...common, entryPoints: ['src/sdk/index.ts'], outfile: 'dist/poplet.js' }),
  build({
    ...common,
    entryPoints: ['src/sdk/render/index.tsx'],
    outfile: 'dist/poplet.ui.js',
    jsx: 'automatic',
    jsxImportSource: 'preact',
  }),
  build({ ...common, entryPoints: ['src/sdk/collect/index.ts'], outfile: 'dist/poplet.collect.js' }),
]);

const example = snippetFor('https://popups.example.com/poplet.js?site=YOUR_SITE_ID');
writeFileSync('dist/snippet.min.js', example);
writeFileSync('dist/snippet.html', `<!-- Poplet: paste in <head> -->\n<script>${example}</script>\n`);
copyFileSync('src/sdk/global.d.ts', 'dist/poplet.d.ts');
