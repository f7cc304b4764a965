import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { coreMangle } from '../../src/sdk/internal-keys';

// The builds rename these keys wherever they occur in a bundle, so a key that is also a name
// outside the bundle (a campaign field, a stored record's field, the public API, an event detail)
// would be renamed there too and silently stop matching. The schemas and the public types are
// where such names are written down: none of the shortened keys may appear in them.
const keys = coreMangle().mangleProps.source.slice(2, -2).split('|');
const files = [
  ...readdirSync('src/shared').map((f) => `src/shared/${f}`),
  'src/sdk/global.d.ts',
];

describe('keys the builds shorten', () => {
  it('are read from the build options', () => {
    expect(keys.length).toBeGreaterThan(20);
    expect(keys).toContain('peek');
  });

  it.each(files)('are not property names in %s', (file) => {
    // Comments left out: prose says "group: …" without naming a key.
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    const used = keys.filter((k) => new RegExp(`(^|[\\s{,;'"])${k}['"]?\\??\\s*:`, 'm').test(text));
    expect(used).toEqual([]);
  });
});
