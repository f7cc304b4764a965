// The rich-text subset of paragraphs (`html: true`): b, strong, i, em, a[href], br. The output is a
// plain tree that the renderer turns into elements one by one, never an HTML string: any other
// markup and stray closing tags stay visible as text; a link without an http(s) or mailto href
// keeps only its text; attributes other than href are dropped.

export type SafeTag = 'b' | 'strong' | 'i' | 'em' | 'a' | 'br';
// `kids`, not `children`: Preact's prop of that name keeps it, this key is shortened (internal-keys.ts).
export type SafeNode = string | { tag: SafeTag; href?: string; kids: SafeNode[] };

// No prototype: "&constructor;", or a key a page added to Object.prototype, finds nothing here.
// Keys in the order that gzips smallest.
const ENTITIES = { __proto__: null, nbsp: '\u00a0', amp: '&', apos: "'", lt: '<', quot: '"', gt: '>' } as unknown as Record<string, string>;

// What the browser makes of a reference (`&eacute;`, `&#128;` as in HTML: €), read from a textarea:
// it parses what it is given as text only (RCDATA), and a reference cannot hold the `</textarea>`
// that would end that, so no element is ever made. A page enforcing Trusted Types without a
// createHTML policy refuses the assignment: once (the console shows that one violation), then our
// own table reads the basic named ones and every numeric one.
let area: HTMLTextAreaElement | 0 = document.createElement('textarea');

/** Decodes character references, so "&lt;b&gt;" reads as text "<b>", not as a tag. */
export const decode = (s: string): string =>
  s.replace(/&(#(x?)([\da-f]+)|[a-z\d]+);/gi, (m, e: string, x: string, n?: string | number) => {
    if (area)
      try {
        area.innerHTML = m;
        return area.value;
      } catch {
        area = 0;
      }
    // A numeric one (its digits become its code point) or a named one.
    return n ? ((n = parseInt(n as string, x ? 16 : 10)) && n < 0x110000 ? String.fromCodePoint(n) : '\ufffd') : ENTITIES[e.toLowerCase()] || m;
  });

// A `<` outside quotes ends a tag's attributes (the tag is then text): otherwise each unclosed tag
// would look for its `>` to the end of the text, and 64 KB of them took a second.
const TAG = /<(\/?)(b|strong|i|em|a|br)\b((?:[^<>"']|"[^"]*"|'[^']*')*)>/gi;
const HREF = /\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i;

export function sanitize(html: string): SafeNode[] {
  type Open = { tag: string; kids: SafeNode[] };
  const stack: Open[] = [{ tag: '', kids: [] }];
  const top = () => stack[stack.length - 1];
  const text = (s: string) => {
    const kids = top().kids;
    const last = kids.length - 1;
    if (typeof kids[last] == 'string') kids[last] += s;
    else if (s) kids.push(s);
  };
  let at = 0;
  // The result is unused: the callback returns nothing (cast), which saves the chunk bytes.
  html.replace(TAG, ((raw: string, close: string, name: string, attrs: string, index: number) => {
    text(decode(html.slice(at, index)));
    at = index + raw.length;
    const tag = name.toLowerCase() as SafeTag;
    if (close) {
      const i = stack.map((o) => o.tag).lastIndexOf(tag);
      if (i > 0) stack.length = i;
      else if (tag != 'a') text(raw);
      return;
    }
    const node: { tag: SafeTag; href?: string; kids: SafeNode[] } = { tag, kids: [] };
    if (tag == 'a') {
      const h = HREF.exec(attrs) || [];
      // As the URL parser reads it: leading controls and spaces dropped, tabs and newlines removed.
      const href = decode(h[1] || h[2] || h[3] || '').replace(/[\t\n\r]/g, '').replace(/^[\x00-\x20]+/, '');
      // A refused link still opens an element, so that its </a> closes it, but adds its text to the parent.
      if (!/^(https?|mailto):/i.test(href)) return stack.push({ tag, kids: top().kids });
      node.href = href;
    }
    top().kids.push(node);
    // No deeper than the browser's own HTML parser nests (512): a tree far deeper overflows the
    // renderer's stack, which would drop the whole campaign. Deeper tags open and close nothing.
    if (tag != 'br' && stack.length < 512) stack.push(node);
  }) as never);
  text(decode(html.slice(at)));
  return stack[0].kids;
}
