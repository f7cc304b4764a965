// `npm run bench`: every figure the issues ask for, one line each. Each area's bench module
// exports `bench(): Promise<string[]>`; a module that fails prints its error and the rest go on.
import { statSync } from 'node:fs';

const modules = ['./size.ts', './targeting.ts', './ui.ts', './sanitize.ts', './server.ts', './events.ts', './hooks.ts'];

console.log(`# poplet bench — ${new Date().toISOString()} — node ${process.version}, ${process.platform}/${process.arch}`);
let failed = false;
for (const m of modules) {
  try {
    statSync(new URL(m, import.meta.url));
  } catch {
    console.log(`${m}: missing`);
    failed = true;
    continue;
  }
  try {
    const mod = (await import(m)) as { bench: () => Promise<string[]> };
    for (const line of await mod.bench()) console.log(line);
  } catch (e) {
    failed = true;
    console.log(`${m}: failed: ${(e as Error).stack ?? e}`);
  }
}
process.exit(failed ? 1 : 0);
