// Fuzz: rich text from a grammar of attack material (tests/unit/fuzz/html.ts) through sanitize.
// Invariants: it never throws; its tree holds only the allowed tags, an href only on a link, and
// every href is one the project calls safe and the URL parser reads as http(s) or mailto; words
// written as text come out as text, in order.
import { describe, expect, it } from 'vitest';
import { sanitize, type SafeNode } from '../../../src/sdk/render/sanitize';
import { isSafeUrl } from '../../../src/shared/campaign-content';
import { fuzz, RUNS, type Rng } from '../fuzz/gen';
import { HOSTILE_TEXT, richText, tokens } from '../fuzz/html';

const TAGS = ['b', 'strong', 'i', 'em', 'a', 'br'];

/** Throws at the first node that breaks the tree's shape or carries an unsafe href. */
function audit(nodes: SafeNode[], depth = 0): void {
  if (!Array.isArray(nodes)) throw new Error('kids is not a list');
  for (const n of nodes) {
    if (typeof n == 'string') continue;
    if (!n || typeof n != 'object' || !TAGS.includes(n.tag)) throw new Error('bad node ' + JSON.stringify(n).slice(0, 80));
    const keys = Object.keys(n).sort().join();
    if (keys != (n.tag == 'a' ? 'href,kids,tag' : 'kids,tag')) throw new Error(`<${n.tag}> has keys ${keys}`);
    if (n.tag == 'br' && n.kids.length) throw new Error('<br> with children');
    if (n.tag == 'a') {
      const h = n.href!;
      if (typeof h != 'string' || !isSafeUrl(h)) throw new Error('unsafe href ' + JSON.stringify(h));
      const protocol = new URL(h, 'https://page.example/dir/').protocol;
      if (!['http:', 'https:', 'mailto:'].includes(protocol)) throw new Error(`href ${JSON.stringify(h)} is ${protocol}`);
    }
    audit(n.kids, depth + 1);
  }
}

const textOf = (nodes: SafeNode[]): string => nodes.map((n) => (typeof n == 'string' ? n : textOf(n.kids))).join('');

/** A word no grammar token contains, that no reference or tag can reach into. */
const marker = (i: number) => `⟦${i}⟧`;

/**
 * Text and well-formed markup only (every quote closed inside its tag), with markers between the
 * pieces: each marker is then in a text position, as the browser would parse it too.
 */
function wellFormed(r: Rng): { html: string; markers: string[] } {
  const markers: string[] = [];
  let html = '';
  for (let n = 1 + r.int(12); n--; ) {
    const m = marker(markers.length);
    markers.push(m);
    html += m;
    html += r.pick([
      () => r.pick(HOSTILE_TEXT),
      () => `<${r.pick(TAGS)}>`,
      () => `</${r.pick(TAGS)}>`,
      () => `<a href="${r.pick(['https://example.com/?q=>', 'javascript:alert(1)', 'data:text/html,<b>x</b>', 'mailto:a@b.c', '&#x6A;avascript:x'])}" title='a"b'>`,
      () => `<B class=x onclick="alert('>')">`,
      () => r.pick(['<script>alert(1)</script>', '<style>b{}</style>', '<!-- c -->', '<![CDATA[x]]>', '<svg><style>', '<img src=x onerror=alert(1)>', '</p>', '<p>']),
    ])();
  }
  return { html, markers };
}

describe('fuzz: sanitize', () => {
  it('never throws; only the allowed tags, href only on links, every href safe to the project and to the URL parser', () => {
    const fails = fuzz('sanitize', 2500, (r) => richText(r), (html) => audit(sanitize(html)));
    expect(fails).toEqual([]);
  }, 10_000 * RUNS);

  it('text stays text: every word written between pieces of markup comes out, in order', () => {
    const fails = fuzz('sanitize text', 1500, wellFormed, ({ html, markers }) => {
      const out = sanitize(html);
      audit(out);
      const text = textOf(out);
      let at = -1;
      for (const m of markers) {
        const i = text.indexOf(m);
        if (i <= at) throw new Error(`${m} lost or out of order in ${JSON.stringify(text.slice(0, 200))}`);
        at = i;
      }
    });
    expect(fails).toEqual([]);
  }, 10_000 * RUNS);

  it('text without markup of the subset or references comes out whole, as one string', () => {
    const fails = fuzz(
      'sanitize plain',
      800,
      (r) => tokens(r, 0, 1 + r.int(6)).replace(/<\/?(?:b|strong|i|em|a|br)\b/gi, '[').replace(/&/g, '+'),
      (html) => {
        const out = sanitize(html);
        if (out.length != 1 || out[0] != html) throw new Error(JSON.stringify(out).slice(0, 200));
      },
    );
    expect(fails).toEqual([]);
  }, 10_000 * RUNS);

  it('1,000 levels deep, or long, within a second', () => {
    const t = performance.now();
    audit(sanitize('<b><i>'.repeat(500) + 'x' + '</i></b>'.repeat(500)));
    audit(sanitize('<a href="https://example.com/">'.repeat(1000) + 'w'.repeat(100_000)));
    expect(performance.now() - t).toBeLessThan(1000);
  });
});
