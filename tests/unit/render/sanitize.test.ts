import { describe, expect, it } from 'vitest';
import { decode, sanitize, type SafeNode } from '../../../src/sdk/render/sanitize';

describe('sanitize', () => {
  it('keeps the allowed subset as a tree', () => {
    expect(sanitize('Get <b>10%</b> <I>off</I>,<br>see <a href="https://shop.example/x?a=1&amp;b=2">terms</a>'))
      .toEqual([
        'Get ',
        { tag: 'b', kids: ['10%'] },
        ' ',
        { tag: 'i', kids: ['off'] },
        ',',
        { tag: 'br', kids: [] },
        'see ',
        { tag: 'a', href: 'https://shop.example/x?a=1&b=2', kids: ['terms'] },
      ]);
  });

  it('nests and auto-closes', () => {
    expect(sanitize('<strong>a <em>b')).toEqual([{ tag: 'strong', kids: ['a ', { tag: 'em', kids: ['b'] }] }]);
    expect(sanitize("<a href='mailto:x@y.z'>m</a><br/>")).toEqual([{ tag: 'a', href: 'mailto:x@y.z', kids: ['m'] }, { tag: 'br', kids: [] }]);
  });

  it('drops attributes of allowed tags', () => {
    expect(sanitize('<b onclick="alert(1)" style="x">bold</b>')).toEqual([{ tag: 'b', kids: ['bold'] }]);
  });

  it('turns every other tag into visible text', () => {
    expect(sanitize('<img src=x onerror=alert(1)>')).toEqual(['<img src=x onerror=alert(1)>']);
    expect(sanitize('<script>alert(1)</script>')).toEqual(['<script>alert(1)</script>']);
    expect(sanitize('<svg onload=alert(1)><bx>')).toEqual(['<svg onload=alert(1)><bx>']);
    expect(sanitize('a</b>c')).toEqual(['a</b>c']);
  });

  it('keeps links only for http(s) and mailto', () => {
    for (const href of ['javascript:alert(1)', ' JavaScript:alert(1)', 'java&#x09;script:alert(1)', 'jav\nascript:x', 'data:text/html,x', 'vbscript:x', '/relative', 'tel:1'])
      expect(sanitize(`<a href="${href}">x</a> y`)).toEqual(['x y']);
    expect(sanitize('<a>x</a>')).toEqual(['x']);
    expect(sanitize('<a href=" https://a.example">x</a>')).toEqual([{ tag: 'a', href: 'https://a.example', kids: ['x'] }]);
  });

  it('decodes entities into text, never into markup', () => {
    expect(sanitize('&lt;script&gt;x&lt;/script&gt; &amp; &#65;&#x42; &bogus;')).toEqual(['<script>x</script> & AB &bogus;']);
    expect(decode('&#0;&#1114112;')).toBe('\ufffd\ufffd');
  });

  it('a name of a built-in member, or a key a page added to Object.prototype, is no entity', () => {
    expect(decode('&constructor; &CONSTRUCTOR; &amp;')).toBe('&constructor; &CONSTRUCTOR; &');
    const proto = Object.prototype as Record<string, unknown>;
    proto.clone = function () {};
    proto.polluted = 'x';
    try {
      expect(sanitize('&clone; &polluted; &lt;')).toEqual(['&clone; &polluted; <']);
    } finally {
      delete proto.clone;
      delete proto.polluted;
    }
  });

  it('handles quotes with > inside attributes', () => {
    expect(sanitize('<a href="https://a.example/?q=>">go</a>')).toEqual([{ tag: 'a', href: 'https://a.example/?q=>', kids: ['go'] }]);
  });

  it('a < outside quotes ends the attributes: that tag stays text, the next one is read', () => {
    expect(sanitize('<b x<i>y</i>')).toEqual(['<b x', { tag: 'i', kids: ['y'] }]);
    expect(sanitize('<b title="<i>">y</b>')).toEqual([{ tag: 'b', kids: ['y'] }]);
  });

  it('nests no deeper than the HTML parser (512 levels): deeper tags are empty, their text stays (their closing tags, stray, show as text)', () => {
    const depth = (n: SafeNode[]): number => Math.max(0, ...n.map((k) => (typeof k == 'string' ? 0 : 1 + depth(k.kids))));
    const out = sanitize('<b><i>'.repeat(1000) + 'x' + '</i></b>'.repeat(1000) + 'y');
    expect(depth(out)).toBe(512);
    const text = (n: SafeNode[]): string => n.map((k) => (typeof k == 'string' ? k : text(k.kids))).join('');
    expect(text(out).replace(/<\/[ib]>/g, '')).toBe('xy');
  });
});
