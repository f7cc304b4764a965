// The README's JavaScript examples, as a TypeScript site pastes them, type-check against the
// declarations the build ships (src/sdk/global.d.ts, copied to dist/poplet.d.ts) under `strict`.
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'poplet-types-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
copyFileSync(join(import.meta.dirname, '../../../src/sdk/global.d.ts'), join(dir, 'poplet.d.ts'));

/** The compiler's messages for `code`, a script that references poplet.d.ts. */
function errors(code: string): string[] {
  const file = join(dir, `ex${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, `/// <reference path="./poplet.d.ts" />\nexport {};\n${code}\n`);
  const program = ts.createProgram([file], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [] });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('dist/poplet.d.ts and the README examples', () => {
  it('the global is callable bare, as every README example calls it, and on window', () => {
    expect(errors(`wisepops('event', 'added-to-cart');\nwindow.wisepops('pageview');`)).toEqual([]);
  });

  it('properties takes true (replace) and false (merge) as its third argument, as the JavaScript API table says', () => {
    expect(errors(`wisepops('properties', { plan: 'pro' }, true);\nwisepops('properties', { plan: 'pro' }, false);\nwisepops('properties', { cartValue: 129.9 }, { temporary: true });`)).toEqual([]);
  });

  it('the listen examples read detail.popup, detail.fields and the form without a cast', () => {
    const code = [
      'declare const dataLayer: unknown[];',
      'declare const crm: { identify(email: string): void };',
      "wisepops('listen', 'after-form-submit', (e) => console.log(e.detail.popup.id, e.detail.fields));",
      "wisepops('listen', 'after-form-submit', (event) => {",
      "  dataLayer.push({ event: 'newsletter', campaign: event.detail.popup.id });",
      "  crm.identify(event.target.elements['email'].value);",
      '});',
      "wisepops('listen', 'after-form-submit', (e) => {",
      "  if (e.detail.ok) dataLayer.push({ event: 'newsletter_signup', campaign: e.detail.popup.id });",
      "  else console.warn('sign-up refused:', e.detail.error);",
      '});',
      "wisepops('listen', 'before-popup-display', 42, () => !document.querySelector('.checkout'));",
      "wisepops('listen', 'before-popup-display', '42', (e) => e.detail.popup.id !== 42);",
      "wisepops('listen', 'ready', () => console.log('poplet ready'));",
      "wisepops('listen', 'after-popup-close', (e) => { const v: string | undefined = e.detail.variant; console.log(v); });",
    ].join('\n');
    expect(errors(code)).toEqual([]);
    // `ready` is not about a campaign: its detail has no popup to read.
    expect(errors(`wisepops('listen', 'ready', (e) => e.detail.popup.id > 0);`)).toEqual([expect.stringContaining("possibly 'undefined'")]);
  });
});
