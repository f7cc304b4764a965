// The install snippet: under 600 bytes, queues calls, loads the script deferred, names its global.
import { beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { snippetFor } from '../../src/sdk/snippet';

const w = window as unknown as Record<string, ((...a: unknown[]) => void) & { q?: IArguments[]; l?: number }>;

beforeEach(() => {
  document.head.innerHTML = '<script src="/existing.js"></script>';
  delete w.wisepops;
  delete w.pops2;
});

describe('snippet', () => {
  it('is the one README.md shows, wherever it shows it', () => {
    // Whole ones only: the README also shortens it to `{…}` where only the URL matters.
    const shown = readFileSync('README.md', 'utf8').match(/^<script>\(function\(w,i,s,e\)\{(?!…).*$/gm)!;
    expect(shown.length).toBeGreaterThan(1);
    for (const line of shown) expect(line).toBe(`<script>${snippetFor(line.match(/"(https?:[^"]+)"\)<\/script>$/)![1])}</script>`);
  });

  it('stays under 600 bytes for a realistic URL', () => {
    const s = snippetFor('https://popups.example-shop.com/poplet.js?site=shop-main-2025');
    expect(s.length).toBeLessThan(600);
  });

  it('defines a queueing stub, then inserts a deferred script carrying the global name', () => {
    new Function(snippetFor('https://popups.example.com/poplet.js?site=abc'))(); // the test runs it as a page would
    w.wisepops('properties', { a: 1 });
    w.wisepops('event', 'x');
    expect(w.wisepops.q!.map((a) => Array.from(a))).toEqual([['properties', { a: 1 }], ['event', 'x']]);
    expect(typeof w.wisepops.l).toBe('number');
    const s = document.querySelector('script[data-global]') as HTMLScriptElement;
    expect(s.src).toBe('https://popups.example.com/poplet.js?site=abc');
    expect(s.defer).toBe(true);
    expect(s.getAttribute('data-global')).toBe('wisepops');
    expect(document.head.firstElementChild).toBe(s);
  });

  it('two installs under different names never share a queue', () => {
    new Function(snippetFor('https://a.example/poplet.js?site=a'))();
    new Function(snippetFor('https://b.example/poplet.js?site=b', 'pops2'))();
    w.pops2('event', 'only-b');
    expect(w.wisepops.q).toBeUndefined();
    expect(w.pops2.q).toHaveLength(1);
  });

  it('replaces an element exposed under the name (<div id="wisepops">, <form name="wisepops">), keeps a function already there', () => {
    // What a browser's window[id] gives for <div id="wisepops">.
    w.wisepops = document.createElement('div') as never;
    new Function(snippetFor('https://popups.example.com/poplet.js?site=abc'))();
    w.wisepops('event', 'x');
    expect(w.wisepops.q!.map((a) => Array.from(a))).toEqual([['event', 'x']]);
    // A snippet pasted twice (or after the script ran) keeps the first one's queue.
    const first = w.wisepops;
    new Function(snippetFor('https://popups.example.com/poplet.js?site=abc'))();
    expect(w.wisepops).toBe(first);
    expect(w.wisepops.q).toHaveLength(1);
  });

  it('cannot be broken out of by a hostile URL', () => {
    const s = snippetFor('https://x.example/poplet.js?site=</script><script>alert(1)</script>');
    expect(s).not.toContain('</script>');
  });

  it('the built snippet matches the source', () => {
    const built = readFileSync('dist/snippet.min.js', 'utf8');
    expect(built).toBe(snippetFor('https://popups.example.com/poplet.js?site=YOUR_SITE_ID'));
  });
});
