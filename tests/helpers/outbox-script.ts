// The real outbox and its browser glue, bundled for a test page as the collection chunk has them
// (the core's stringify handed over): the
// page gets `window.outbox`, posting to `endpoint` the sign-ups of `site` (an install sends only its own site's).
import { build } from 'esbuild';

export async function outboxScript(endpoint: string, then = '', site = 's1'): Promise<string> {
  const bundle = await build({
    stdin: {
      contents: `import { createOutbox } from './src/sdk/collect/outbox'; import { browserNet } from './src/sdk/collect/net';
        import { stringify } from './src/sdk/json';
        window.outbox = createOutbox(${JSON.stringify(endpoint)}, { ...browserNet, serialize: stringify }, () => {}, localStorage, ${JSON.stringify(site)});${then}`,
      resolveDir: process.cwd(),
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    target: 'es2018',
    write: false,
  });
  return bundle.outputFiles[0]!.text;
}
