// The rich-text sanitizer on owner text at its worst: broken markup, every tag left unclosed,
// which once made it look for a `>` to the end of the text from each tag (quadratic).
// Run alone: npx tsx tests/bench/sanitize.ts
export async function bench(): Promise<string[]> {
  // sanitize.ts makes its entity decoder's textarea when it loads; this text has no references, so
  // that element is never used, and Node needs no DOM here.
  (globalThis as { document?: unknown }).document ??= { createElement: () => ({}) };
  const { sanitize } = await import('../../src/sdk/render/sanitize');
  const ms = (kb: number) => {
    const text = `<b x<a href="https://a.example/'`.repeat((kb * 1024) / 32);
    sanitize(text);
    const t = performance.now();
    sanitize(text);
    return performance.now() - t;
  };
  const [a, b] = [ms(64), ms(256)];
  return [`sanitize: unclosed tags, 64 KB in ${a.toFixed(1)} ms, 256 KB in ${b.toFixed(1)} ms (4 times the text: ${(b / a).toFixed(1)} times the time)`];
}

if (import.meta.url === `file://${process.argv[1]}`) for (const l of await bench()) console.log(l);
