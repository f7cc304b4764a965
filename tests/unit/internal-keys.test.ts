import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { collectMangle, coreMangle, uiMangle } from '../../src/sdk/internal-keys';

// The builds rename these keys wherever they occur in a bundle, so a key that is also a name
// outside the bundle (a campaign field, a stored record's field, the public API, an event detail)
// would be renamed there too and silently stop matching. The schemas and the public types are
// where such names are written down: none of the shortened keys may appear in them.
const listed = (o: { mangleProps: RegExp }) => o.mangleProps.source.slice(2, -2).split('|');
const keys = listed(coreMangle());
const uiKeys = listed(uiMangle());
const files = [
  ...readdirSync('src/shared').map((f) => `src/shared/${f}`),
  'src/sdk/global.d.ts',
];
// The UI chunk's other ends: the core and the collection chunk (the contracts), the visitor
// context that hidden fields read.
const uiFiles = [...files, 'src/sdk/render/contract.ts', 'src/sdk/collect/contract.ts', 'src/sdk/context/types.ts'];

/** `k` written as a property name (`k:`, `k?:`, `'k':`) in `text`. */
const isKeyIn = (text: string, k: string) => new RegExp(`(^|[\\s{,;'"])${k}['"]?\\??\\s*:`, 'm').test(text);

describe('keys the builds shorten', () => {
  it('are read from the build options', () => {
    expect(keys.length).toBeGreaterThan(20);
    expect(keys).toContain('peek');
    expect(uiKeys).toContain('focusStep');
    expect(uiKeys).toContain('__k');
    // An object literal's prototype, which a renamed key would turn into a plain field.
    for (const o of [coreMangle(), collectMangle(), uiMangle()]) expect(o.mangleProps.test('__proto__')).toBe(false);
  });

  it.each(files)('are not property names in %s', (file) => {
    // Comments left out: prose says "group: …" without naming a key.
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    expect(keys.filter((k) => isKeyIn(text, k))).toEqual([]);
  });

  // Nor quoted: the names of a union type (MessageKey: the keys of `messages`) are strings.
  it.each(uiFiles)("the UI chunk's are not property names in %s", (file) => {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    expect(uiKeys.filter((k) => isKeyIn(text, k) || text.includes(`'${k}'`))).toEqual([]);
  });

  // JSX props go to elements by name: a key that is also a DOM property, an attribute Preact
  // sets, a style name, or a name Preact itself reads would be renamed on its way to the element.
  // Preact's own internal keys (`__k`) excepted: Preact reads them, and is renamed with them.
  // Built-in methods too (`at`, `values`, `entries`): one called in a bundle would be renamed with
  // the key (Object.entries became Object.<short name>, undefined, in the core once).
  it.each([
    ['core', keys],
    ['UI chunk', uiKeys],
  ] as const)("the %s's are not names of the DOM, Preact or the built-ins", (_, list) => {
    const tags = 'input select option textarea form button a img dialog div span p h2 label body html style poplet-campaign'.split(' ');
    const objects: object[] = [
      ...tags.map((t) => document.createElement(t)),
      document,
      window,
      document.body.style,
      new KeyboardEvent('keydown'),
      Object.prototype,
      Array.prototype,
      String.prototype,
      RegExp.prototype,
      Promise.prototype,
      Map.prototype,
      Set.prototype,
      Storage.prototype,
      URL.prototype,
      URLSearchParams.prototype,
      Event.prototype,
      console,
      JSON,
      history,
      location,
      navigator,
      Function.prototype,
      Number.prototype,
      Date.prototype,
      Object,
      Array,
      Promise,
      Math,
    ];
    const preact = readFileSync('node_modules/preact/dist/preact.module.js', 'utf8');
    const clash = list.filter(
      (k) => objects.some((o) => k in o) || (!k.startsWith('__') && new RegExp(`\\.${k}\\b|[{,]${k}:|['"]${k}['"]`).test(preact)) || document.createElement('input').hasAttribute(k),
    );
    expect(clash).toEqual([]);
  });

  // A key read by a quoted name (`x['name']`) is not renamed there: minified, it shows in the
  // bundle as `x.name`, next to the renamed ones that no longer match it.
  it.each([
    ['dist/poplet.js', keys],
    ['dist/poplet.collect.js', listed(collectMangle())],
    ['dist/poplet.ui.js', uiKeys],
  ] as const)('are all renamed in %s', (file, list) => {
    if (!existsSync(file)) return;
    const text = readFileSync(file, 'utf8');
    expect(list.filter((k) => new RegExp(`\\.${k}\\b|[{,]${k}:`).test(text))).toEqual([]);
  });

  // Nor read through a string (`x[p]`, p = '__k'), which the build leaves as it is. Preact builds
  // two keys from one, '__d' and '__a' + a random number: other, longer names, left alone.
  it("Preact's are never a string in dist/poplet.ui.js", () => {
    if (!existsSync('dist/poplet.ui.js')) return;
    const text = readFileSync('dist/poplet.ui.js', 'utf8');
    expect(uiKeys.filter((k) => k.startsWith('__') && new RegExp(`(["'\`])${k}\\1(?!\\+[A-Za-z$_])`).test(text))).toEqual([]);
  });
});
