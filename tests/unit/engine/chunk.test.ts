import { afterEach, describe, expect, it } from 'vitest';
import { beside, chunkLoader } from '../../../src/sdk/engine/chunk';
import { UI_GLOBAL, type PopletUi } from '../../../src/sdk/render/contract';

const URL = 'https://popups.test/poplet.ui.js';
const w = window as unknown as Record<string, unknown>;
const scripts = () => [...document.querySelectorAll<HTMLScriptElement>(`script[src="${URL}"]`)];
const fake: PopletUi = { show: () => ({ destroy() {} }) };

afterEach(() => {
  delete w[UI_GLOBAL];
  scripts().forEach((s) => s.remove());
});

describe('chunk loader', () => {
  // (A created script is async by default; jsdom does not model it, the Chromium engine test checks it.)
  it('adds one <script> with the nonce and resolves with the registered chunk', async () => {
    const load = chunkLoader<PopletUi>(URL, UI_GLOBAL, 'n0nce');
    const a = load();
    const b = load();
    expect(scripts()).toHaveLength(1);
    const s = scripts()[0];
    expect(s.nonce).toBe('n0nce');
    w[UI_GLOBAL] = fake;
    s.dispatchEvent(new Event('load'));
    await expect(a).resolves.toBe(fake);
    await expect(b).resolves.toBe(fake);
    await expect(load()).resolves.toBe(fake);
    expect(scripts()).toHaveLength(1);
  });

  it('ignores a chunk another Poplet version registered: it loads its own', async () => {
    expect(UI_GLOBAL).toBe('__popletUi@dev');
    w['__popletUi@0.0.1'] = fake;
    try {
      void chunkLoader<PopletUi>(URL, UI_GLOBAL)();
      expect(scripts()).toHaveLength(1);
    } finally {
      delete w['__popletUi@0.0.1'];
    }
  });

  it('uses a chunk already on the page', async () => {
    w[UI_GLOBAL] = fake;
    await expect(chunkLoader<PopletUi>(URL, UI_GLOBAL)()).resolves.toBe(fake);
    expect(scripts()).toHaveLength(0);
  });

  it('rejects when the chunk fails or does not register, and tries again next time', async () => {
    const load = chunkLoader<PopletUi>(URL, UI_GLOBAL);
    const a = load();
    scripts()[0].dispatchEvent(new Event('error'));
    await expect(a).rejects.toThrow(URL);
    // the failed tag is gone: retries on a long-lived page do not pile tags up
    expect(scripts()).toHaveLength(0);
    const b = load();
    expect(scripts()).toHaveLength(1);
    scripts()[0].dispatchEvent(new Event('load'));
    await expect(b).rejects.toThrow(URL);
    expect(scripts()).toHaveLength(0);
  });

  it('beside(): the collection chunk sits in the UI chunk\'s folder, whether its URL is absolute, relative or cache-busted', () => {
    expect(beside('https://popups.test/js/poplet.ui.js', 'poplet.collect.js')).toBe('https://popups.test/js/poplet.collect.js');
    expect(beside('https://cdn.test/v/ui.js?v=3#x', 'poplet.collect.js')).toBe('https://cdn.test/v/poplet.collect.js?v=3#x');
    // relative ones stay relative: the <script src> resolves them against the page
    expect(beside('/static/poplet.ui.js', 'poplet.collect.js')).toBe('/static/poplet.collect.js');
    expect(beside('assets/poplet.ui.js?b=1&to=a/b?c', 'poplet.collect.js')).toBe('assets/poplet.collect.js?b=1&to=a/b?c');
    expect(beside('poplet.ui.js', 'poplet.collect.js')).toBe('poplet.collect.js');
  });
});
