// Bundle sizes: raw and gzip bytes of every budgeted dist file, against its limit and goal.
import { budgets, measure } from './budgets';

export async function bench(): Promise<string[]> {
  return budgets().map(({ file, limit, goal }) => {
    const m = measure(file);
    const unit = file.endsWith('.min.js') ? 'raw' : 'gzip';
    const verdict = m.counted <= goal ? 'goal met' : `goal NOT met, ${m.counted - goal} bytes over`;
    return `size: ${file} ${m.raw} bytes raw, ${m.gzip} bytes gzip; limit ${limit} ${unit}, goal ${goal} ${unit} (${verdict})`;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) for (const l of await bench()) console.log(l);
