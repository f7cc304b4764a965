// Where the bytes of a browser bundle go: minified bytes each source module contributes,
// largest first. `npx tsx tests/bench/size-breakdown.ts [entry]` (default: the core).
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { CHUNKS_HASH_LENGTH } from '../../src/shared/chunks';
import { collectMangle, coreMangle, uiMangle } from '../../src/sdk/internal-keys';

const entry = process.argv[2] ?? 'src/sdk/index.ts';
const result = await build({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2018',
  write: false,
  metafile: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // As esbuild.config.ts builds it.
  define: {
    'process.env.NODE_ENV': '"production"',
    POPLET_VERSION: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version),
    // A key of the real length (the real one hashes the built chunks).
    POPLET_CHUNKS: JSON.stringify('0'.repeat(CHUNKS_HASH_LENGTH)),
  },
  // Keys shortened as the build does.
  ...(/\/render\//.test(entry) ? uiMangle() : /\/collect\//.test(entry) ? collectMangle() : coreMangle()),
});
const bytes = result.outputFiles[0].contents;
console.log(`${entry}: ${bytes.length} bytes minified, ${gzipSync(bytes, { level: 9 }).length} bytes gzip`);
const inputs = Object.values(result.metafile.outputs)[0].inputs;
for (const [file, { bytesInOutput }] of Object.entries(inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)) {
  console.log(`${String(bytesInOutput).padStart(7)}  ${file}`);
}
