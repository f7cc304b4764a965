import { afterEach, describe, expect, it } from 'vitest';
import { chunkLoader } from '../../../src/sdk/engine/chunk';
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

  it('uses a chunk already on the page', async () => {
    w[UI_GLOBAL] = fake;
    await expect(chunkLoader<PopletUi>(URL, UI_GLOBAL)()).resolves.toBe(fake);
    expect(scripts()).toHaveLength(0);
  });

  it('rejects when the chunk fails or does not register, and tries again next time', async () => {
    const load = chunkLoader<PopletUi>(URL, UI_GLOBAL);
    const a = load();
    scripts()[0].dispatchEvent(new Event('error'));
    await expect(a).rejects.toThrow('chunk not loaded: ' + URL);
    const b = load();
    expect(scripts()).toHaveLength(2);
    scripts()[1].dispatchEvent(new Event('load'));
    await expect(b).rejects.toThrow('chunk not loaded: ' + URL);
  });
});
