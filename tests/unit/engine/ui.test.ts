import { afterEach, describe, expect, it } from 'vitest';
import { uiLoader } from '../../../src/sdk/engine/ui';
import { UI_GLOBAL, type PopletUi } from '../../../src/sdk/render/contract';

const URL = 'https://popups.test/poplet.ui.js';
const w = window as unknown as Record<string, unknown>;
const scripts = () => [...document.querySelectorAll<HTMLScriptElement>(`script[src="${URL}"]`)];
const fake: PopletUi = { show: () => ({ destroy() {} }) };

afterEach(() => {
  delete w[UI_GLOBAL];
  scripts().forEach((s) => s.remove());
});

describe('UI chunk loader', () => {
  // (A created script is async by default; jsdom does not model it, the Chromium engine test checks it.)
  it('adds one <script> with the nonce and resolves with the registered chunk', async () => {
    const load = uiLoader(URL, 'n0nce');
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
    await expect(uiLoader(URL)()).resolves.toBe(fake);
    expect(scripts()).toHaveLength(0);
  });

  it('rejects when the chunk fails or does not register, and tries again next time', async () => {
    const load = uiLoader(URL);
    const a = load();
    scripts()[0].dispatchEvent(new Event('error'));
    await expect(a).rejects.toThrow('UI chunk not loaded');
    const b = load();
    expect(scripts()).toHaveLength(2);
    scripts()[1].dispatchEvent(new Event('load'));
    await expect(b).rejects.toThrow('UI chunk not loaded');
  });
});
