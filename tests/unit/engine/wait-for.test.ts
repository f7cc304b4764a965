// What index.ts tells the engine a campaign must wait for, read from the real document.
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../../src/sdk/engine';

afterEach(() => document.body.replaceChildren());

describe('waitFor', () => {
  it("an embed waits for an element matching its selector, a class added to one included", () => {
    expect(waitFor('embed:#signup')).toBe('waiting for #signup');
    document.body.innerHTML = '<div class="slot"></div>';
    expect(waitFor('embed:.slot.ready')).toBe('waiting for .slot.ready');
    document.querySelector('.slot')!.classList.add('ready');
    expect(waitFor('embed:.slot.ready')).toBe(false);
  });

  it('an invalid selector is not waited for (the UI chunk reports it), nor is a popup without a modal', () => {
    expect(waitFor('embed:#')).toBeFalsy();
    expect(waitFor('main')).toBeFalsy();
    expect(waitFor('bar')).toBeFalsy();
  });
});
