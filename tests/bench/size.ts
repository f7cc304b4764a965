// Bundle sizes: raw and gzip bytes of every budgeted dist file, against its budget.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export async function bench(): Promise<string[]> {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { budgets: Record<string, number> };
  return Object.entries(pkg.budgets).map(([file, budget]) => {
    const raw = readFileSync(file);
    const gz = gzipSync(raw, { level: 9 }).length;
    const measured = file.endsWith('.min.js') ? raw.length : gz;
    const unit = file.endsWith('.min.js') ? 'bytes raw' : 'bytes gzip';
    return `size: ${file} ${raw.length} bytes raw, ${gz} bytes gzip (budget ${budget} ${unit}, ${Math.round((measured / budget) * 100)}%)`;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) for (const l of await bench()) console.log(l);
