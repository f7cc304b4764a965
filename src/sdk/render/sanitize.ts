// The rich-text subset of paragraphs (`html: true`): b, strong, i, em, a[href], br. The output is a
// plain tree that the renderer turns into elements one by one, never an HTML string: any other
// markup, a link with an unsafe href and stray closing tags stay visible as text.
export type SafeTag = 'b' | 'strong' | 'i' | 'em' | 'a' | 'br';
export type SafeNode = string | { tag: SafeTag; href?: string; children: SafeNode[] };

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Decodes character references, so "&lt;b&gt;" reads as text "<b>", not as a tag. */
export const decode = (s: string): string =>
  s.replace(/&(#x[\da-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    const code = e[0] != '#' ? -1 : e[1] == 'x' || e[1] == 'X' ? parseInt(e.slice(2), 16) : +e.slice(1);
    return code < 0 ? ENTITIES[e.toLowerCase()] ?? m : code > 0 && code < 0x110000 ? String.fromCodePoint(code) : '\ufffd';
  });

const TAG = /<(\/?)(b|strong|i|em|a|br)\b((?:[^>"']|"[^"]*"|'[^']*')*)>/gi;
const HREF = /\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i;

export function sanitize(html: string): SafeNode[] {
  const root: SafeNode[] = [];
  // Open elements, innermost last; a link with an unsafe href is opened as null (text only).
  const stack: Array<{ tag: string; children: SafeNode[] }> = [{ tag: '', children: root }];
  const text = (s: string) => {
    if (!s) return;
    const kids = stack[stack.length - 1].children;
    const last = kids.length - 1;
    if (typeof kids[last] == 'string') kids[last] += s;
    else kids.push(s);
  };
  let at = (TAG.lastIndex = 0);
  for (let m; (m = TAG.exec(html)); ) {
    text(decode(html.slice(at, m.index)));
    at = TAG.lastIndex;
    const [raw, close, name, attrs] = m;
    const tag = name.toLowerCase() as SafeTag;
    if (close) {
      const i = stack.map((e) => e.tag).lastIndexOf(tag);
      if (i > 0) stack.length = i;
      else if (tag != 'a') text(raw);
    } else if (tag == 'br') {
      stack[stack.length - 1].children.push({ tag, children: [] });
    } else if (tag == 'a') {
      const h = HREF.exec(attrs);
      // As the URL parser reads it: leading controls and spaces dropped, tabs and newlines removed.
      const href = h ? decode(h[1] ?? h[2] ?? h[3]).replace(/[\t\n\r]/g, '').replace(/^[\x00-\x20]+/, '') : '';
      if (/^(https?|mailto):/i.test(href)) {
        const node = { tag, href, children: [] };
        stack[stack.length - 1].children.push(node);
        stack.push(node);
      } else stack.push({ tag, children: stack[stack.length - 1].children });
    } else {
      const node = { tag, children: [] };
      stack[stack.length - 1].children.push(node);
      stack.push(node);
    }
  }
  text(decode(html.slice(at)));
  return root;
}
