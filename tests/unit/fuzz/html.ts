// A grammar of HTML-ish attack text for the rich-text fuzz tests (the sanitizer's unit fuzz and the
// render fuzz in Chromium): tags of the allowed subset and others, nested, unclosed and misnested,
// comments, CDATA, raw-text elements, handlers, hrefs whose scheme hides behind references,
// controls, case and whitespace, unquoted attributes, NUL and lone surrogates, long runs.
import type { Rng } from './gen';

/** What a script that ran would set: the render fuzz checks it stays unset. */
export const XSS = 'window.__xss=1';

/** Schemes that must never become a link, written in the ways browsers still read as the scheme. */
const BAD_SCHEMES = ['javascript:', 'data:', 'vbscript:', 'blob:', 'file:', 'jar:', 'view-source:'];
const GOOD_HREFS = ['https://example.com/', 'http://example.com/a?b=1&amp;c=2', 'mailto:a@example.com', 'HTTPS://EXAMPLE.COM', ' https://example.com/x'];

/** A scheme disguised: references for letters, tabs and newlines inside it, case, leading controls. */
function disguise(r: Rng, scheme: string): string {
  let out = r.pick(['', '', ' ', '\x01', '\x00', '\t', '\u00a0', '&#32;', '&#x0;', '&Tab;']);
  for (const ch of scheme) {
    const c = r.chance(0.5) ? ch.toUpperCase() : ch;
    const cp = ch.codePointAt(0)!;
    out += r.pick([
      c,
      c,
      c,
      `&#${cp};`,
      `&#x${cp.toString(16)};`,
      `&#X${cp.toString(16).toUpperCase()};`,
      `&#000${cp};`,
      `&#${cp}`,
      ch == ':' ? '&colon;' : c,
      c + r.pick(['\t', '\n', '\r', '&#9;', '&#x0A;', '&NewLine;', '&Tab;', '\x00']),
    ]);
  }
  return out;
}

function href(r: Rng): string {
  if (r.chance(0.25)) return r.pick(GOOD_HREFS);
  if (r.chance(0.1)) return r.pick(['', '/relative', '#top', '?q', '//example.com/x', 'tel:123', 'https:javascript:x', 'https\x01://x', 'ht\ttps://example.com']);
  const scheme = disguise(r, r.pick(BAD_SCHEMES));
  return scheme + r.pick([XSS, 'text/html,<script>' + XSS + '</script>', 'text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==', 'alert(1)', '//%0a' + XSS]);
}

/** An attribute: quoted either way, unquoted, without a value, or a handler. */
function attr(r: Rng, tag: string): string {
  const sep = r.pick([' ', ' ', '\t', '\n', '/', ' / ']);
  const q = r.pick(['"', "'", '', '"']);
  const value = (v: string) => (q ? q + v.split(q).join(q == '"' ? '&quot;' : '&#39;') + q : v.replace(/[\s>"'`=<]/g, ''));
  switch (r.int(7)) {
    case 0:
    case 1:
      return tag == 'a' || r.chance(0.2) ? sep + r.pick(['href', 'HREF', 'hReF', 'xlink:href', 'href ', 'data-href']) + r.pick(['=', ' = ', '=\n']) + value(href(r)) : sep + 'title=' + value('t>"');
    case 2:
      return sep + r.pick(['onclick', 'onerror', 'ONMOUSEOVER', 'onload', 'onfocus', 'onanimationstart']) + '=' + value(XSS);
    case 3:
      return sep + r.pick(['style', 'class', 'id', 'src', 'srcdoc', 'formaction', 'target', 'rel']) + '=' + value(r.pick(['x', 'background:url(javascript:' + XSS + ')', '<script>' + XSS + '</script>', '_top', 'javascript:' + XSS]));
    case 4:
      return sep + r.pick(['autofocus', 'hidden', 'open', 'x']);
    case 5:
      // What a tag regex might miscount: quotes and angle brackets inside values.
      return sep + 'data-x=' + r.pick(['">"', "'>'", '"\'"', "'\"'", '`>`', '"<b>"', '"</a>"']);
    default:
      return sep + 'href=' + value(href(r)) + sep + 'href=' + value(href(r));
  }
}

const ALLOWED = ['b', 'strong', 'i', 'em', 'a', 'br'];
const OTHER = ['script', 'style', 'img', 'svg', 'math', 'iframe', 'object', 'embed', 'form', 'input', 'textarea', 'title', 'noscript', 'template', 'xmp', 'plaintext', 'base', 'meta', 'link', 'details', 'video', 'bdo', 'span', 'p', 'div', 'button', 'select', 'option', 'table', 'frameset'];
/** Names a tag regex might take for an allowed one. */
const LOOKALIKES = ['a-b', 'b:x', 'abbr', 'bold', 'br/', 'ab', 'A', 'B', 'STRONG', 'eM', 'I', 'Br', 'a\u0131', 'a\x00', 'strong\t', 'i\n'];

/** Text worth rendering as text: markup references, templates, bidi controls, odd code units. */
export const HOSTILE_TEXT = [
  `<img src=x onerror=${XSS}>`,
  '{{constructor.constructor("' + XSS + '")()}}',
  '${' + XSS + '}',
  '\u202eevil\u202c',
  '\u2066\u2067\u2068',
  '\u0000',
  '\ud800',
  '\udc00x',
  '😀',
  '&lt;script&gt;',
  '&amp;lt;b&amp;gt;',
  '&#60;img src=x onerror=' + XSS + '&#62;',
  '&#x3C;',
  '&#1e5;',
  '&#65a;',
  '&#0;',
  '&#xD800;',
  '&#99999999999;',
  '&nbsp;&NotEqualTilde;&amp',
  '&constructor;',
  '&__proto__;',
  ']]>',
  '-->',
  '"\'`',
  '\\',
  '%3Cscript%3E',
];

/** One token of the grammar: `depth` bounds the recursion of nested forms. */
function token(r: Rng, depth: number): string {
  const k = r.int(20);
  if (k < 4) return r.pick(HOSTILE_TEXT);
  if (k < 6) return r.pick(['Hello ', 'world', ' ', '\n', 'a', 'x'.repeat(1 + r.int(40)), 'é', '10% off']);
  if (k < 10) {
    const name = r.chance(0.85) ? r.pick(ALLOWED) : r.pick(LOOKALIKES);
    const open = '<' + (r.chance(0.3) ? name.toUpperCase() : name) + Array.from({ length: r.int(3) }, () => attr(r, name)).join('') + r.pick(['>', '>', ' >', '/>', '\n>', ' / >']);
    if (depth <= 0 || r.chance(0.3)) return open;
    return open + tokens(r, depth - 1, 1 + r.int(4)) + (r.chance(0.75) ? r.pick([`</${name}>`, `</${name} >`, `</${name.toUpperCase()}>`, `</${name}\n>`, `</${name} x="y">`]) : '');
  }
  if (k < 12) return r.pick(['</b>', '</a>', '</a >', '</A>', '</i>', '</em>', '</strong>', '</br>', '</p>', '</script>', '</style>', '</>', '</ a>', '</a\t>']);
  if (k < 15) {
    const name = r.pick(OTHER);
    return '<' + name + Array.from({ length: r.int(3) }, () => attr(r, name)).join('') + '>' + (depth > 0 ? tokens(r, depth - 1, r.int(3)) : '') + (r.chance(0.6) ? `</${name}>` : '');
  }
  if (k < 17)
    return r.pick([
      `<!--<img src=x onerror=${XSS}>-->`,
      '<!-- <b> -->',
      '<!-->',
      '<!--->',
      `<![CDATA[<script>${XSS}</script>]]>`,
      '<!DOCTYPE html>',
      '<?xml version="1.0"?>',
      `<svg><style><img src=x onerror=${XSS}></style></svg>`,
      `<math><mtext><table><mglyph><style><img src=x onerror=${XSS}>`,
      `<noscript><p title="</noscript><img src=x onerror=${XSS}>">`,
      `<svg><a xlink:href="javascript:${XSS}"><text>x</text></a></svg>`,
      `<a href="javascript:${XSS}">`,
      `<a href=javascript:${XSS}>`,
      `<a href="&#x6A;avascript:${XSS}">`,
      `<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;${XSS}">`,
      `<a href="jav&#x09;ascript:${XSS}">`,
      `<a href="java\nscript:${XSS}">`,
      `<a href="\x01javascript:${XSS}">`,
      `<a href="data:text/html,<script>${XSS}</script>">`,
      '<a href="https://example.com/">',
      '<a href="https://example.com/"</a>',
      '<a href="https://example.com/>unterminated',
      "<a href='https://example.com/?q=\">'>q</a>",
    ]);
  if (k < 18) return r.pick(['<', '>', '&', '"', "'", '<<b>>', '<b<i>>', '< b>', '<\x00b>', '&#', '&#x', '&;', '&&amp;;']);
  // Long runs: a 10k word, many tags, deep nesting.
  return r.pick([
    () => 'w'.repeat(10_000),
    () => '<b>'.repeat(200) + 'deep' + '</b>'.repeat(200),
    () => '<i><b>'.repeat(100) + 'mis' + '</i></b>'.repeat(100),
    () => '<a href="https://example.com/">'.repeat(50) + 'links',
    () => '<br>'.repeat(300),
  ])();
}

export function tokens(r: Rng, depth: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += token(r, depth);
  return s;
}

/** A rich paragraph's text: a few tokens, sometimes a long one, sometimes 1,000 levels deep. */
export function richText(r: Rng): string {
  if (r.chance(0.03)) return '<b><i>'.repeat(500) + tokens(r, 1, 2) + (r.chance(0.5) ? '</i></b>'.repeat(500) : '');
  return tokens(r, 3, 1 + r.int(8));
}
