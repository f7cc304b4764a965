// Forms, steps, keyboard and recording through the host, in real Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright';
import type { Content } from '../../src/shared/campaign';
import { box, calls, campaign, fixture, NEWSLETTER, show, type Fixture, type W } from './render-fixture';

let f: Fixture;
beforeAll(async () => {
  f = await fixture();
});
afterAll(() => f.close());

const q = (page: Page, sel: string) => page.locator(`poplet-campaign ${sel}`);
/** What has focus, seen from inside the shadow root. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const a = document.activeElement;
    const inner = a?.shadowRoot?.activeElement;
    const el = inner ?? a;
    return el ? `${inner ? 'shadow:' : ''}${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + el.className : ''}` : '';
  });

const MULTI: Content = {
  label: 'Survey',
  steps: [
    { blocks: [{ type: 'email', label: 'Email', required: true }, { type: 'button', label: 'Next', action: 'next' }] },
    {
      blocks: [
        { type: 'text', name: 'first_name', label: 'First name', autocomplete: 'given-name' },
        { type: 'phone', name: 'phone', label: 'Phone' },
        { type: 'number', name: 'age', label: 'Age' },
        { type: 'select', name: 'size', label: 'Size', options: ['S', 'M', 'L'], placeholder: 'Pick a size', required: true },
        { type: 'checkbox', name: 'vip', label: 'VIP offers' },
        { type: 'button', label: 'Send', action: 'submit' },
      ],
    },
  ],
  success: { blocks: [{ type: 'paragraph', text: 'Done.' }] },
  messages: { required: 'Pflichtfeld.', phone: 'Ungültige Telefonnummer.', number: 'Keine Zahl.' },
};

describe('forms', () => {
  it('validates required and email syntax inline, announces, focuses the first error, sends nothing', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'popup' }));
    await q(page, 'button[type=submit]').click();
    const email = q(page, 'input[type=email]');
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    const err = q(page, `#${await email.getAttribute('aria-describedby')}`);
    expect(await err.textContent()).toBe('This field is required.');
    expect(await err.getAttribute('role')).toBe('alert');
    expect(await q(page, '[role=alert]').count()).toBe(2);
    expect(await focused(page)).toBe('shadow:input#f0-2.in');
    await email.fill('not-an-email');
    await q(page, 'input[type=checkbox]').check();
    await email.press('Enter');
    expect(await err.textContent()).toBe('Please enter a valid email address.');
    expect(await q(page, '[aria-invalid=true]').count()).toBe(1);
    expect((await calls(page)).filter((c) => c[0] == 'submit')).toEqual([]);
  });

  it("refuses inline what the server would refuse: its email rule, its length limit, an email field left optional", async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'popup' }));
    const email = q(page, 'input[type=email]');
    await q(page, 'input[type=checkbox]').check();
    for (const typo of ['ada@example.c', 'ada@example.com,', 'a"b@example.com', 'ada@exa_mple.com', 'x'.repeat(70) + '@example.com']) {
      await email.fill(typo);
      await email.press('Enter');
      expect(await q(page, '.er').textContent(), typo).toBe('Please enter a valid email address.');
    }
    expect((await calls(page)).filter((c) => c[0] == 'submit')).toEqual([]);

    const optional: Content = {
      label: 'Contact',
      steps: [{ blocks: [{ type: 'email', label: 'Email' }, { type: 'text', name: 'msg', label: 'Message' }, { type: 'button', label: 'Go', action: 'submit' }] }],
      success: { blocks: [{ type: 'heading', text: 'Thanks' }] },
    };
    await page.evaluate(() => (window as unknown as W).__shown.destroy());
    await show(page, campaign({ type: 'popup' }, optional));
    // The server takes at most 1,000 characters a field: no more can be typed.
    expect(await q(page, 'input.in').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).maxLength))).toEqual([1000, 1000]);
    await q(page, 'input[name=msg]').fill('y'.repeat(1200));
    expect((await q(page, 'input[name=msg]').inputValue()).length).toBe(1000);
    // Every sign-up carries an email, so the field is required though the campaign left it optional
    // (aria-required: the form checks fields itself, see 'required fields are announced as required').
    expect(await q(page, 'input[type=email]').getAttribute('aria-required')).toBe('true');
    await q(page, 'button[type=submit]').click();
    expect(await q(page, '.er').textContent()).toBe('This field is required.');
    expect((await calls(page)).filter((c) => c[0] == 'submit')).toEqual([]);
  });

  it('on a form taller than the screen, the first invalid field is scrolled into view with its error; the page stays put', async () => {
    const tall: Content = {
      ...NEWSLETTER,
      steps: [
        {
          blocks: [
            { type: 'email', label: 'Email', required: true },
            ...['first', 'last', 'city', 'zip'].map((name) => ({ type: 'text' as const, name, label: name })),
            { type: 'paragraph', text: 'Join 25,000 readers who get our weekly letter with offers, news and more.' },
            { type: 'consent', label: 'I agree to receive marketing emails.', required: true },
            { type: 'button', label: 'Subscribe', action: 'submit' },
          ],
        },
      ],
    };
    for (const layout of [{ type: 'popup' }, { type: 'embed', selector: '#slot' }] as const) {
      const { page } = await f.open({ viewport: { width: 320, height: 568 }, body: '<main><div style="height:1500px"></div><div id="slot"></div><div style="height:1500px"></div></main>' });
      await page.evaluate(() => scrollTo(0, 1000));
      await show(page, campaign(layout, tall));
      await q(page, 'input[type=checkbox]').check();
      await q(page, 'button[type=submit]').click();
      const email = q(page, 'input[type=email]');
      expect(await email.getAttribute('aria-invalid')).toBe('true');
      const seen = (loc: typeof email) => loc.evaluate((e) => e.getBoundingClientRect().top >= 0 && e.getBoundingClientRect().bottom <= innerHeight);
      expect([layout.type, await seen(email), await seen(q(page, '.er'))]).toEqual([layout.type, true, true]);
      // A popup's page does not move under it; an embed's scrolls to the field, as a page's own form would.
      if (layout.type == 'popup') expect(await page.evaluate(() => scrollY)).toBe(1000);
    }
  });

  it('takes an address on an internationalised top-level domain, which Chromium hands over in punycode', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'popup' }));
    const email = q(page, 'input[type=email]');
    await q(page, 'input[type=checkbox]').check();
    // The input's value is the ASCII form of what was typed: user@xn--e1afmkfd.xn--p1ai.
    await email.fill('user@пример.рф');
    expect(await email.inputValue()).toBe('user@xn--e1afmkfd.xn--p1ai');
    await email.press('Enter');
    await page.locator('poplet-campaign h2', { hasText: 'Thank you!' }).waitFor();
    expect((await calls(page)).find((c) => c[0] == 'submit')![2]).toMatchObject({ email: 'user@xn--e1afmkfd.xn--p1ai' });
  });

  it('a refusal that names a field shows its message under that field, with the general error', async () => {
    const { page, errors } = await f.open();
    const content: Content = {
      label: 'Contact',
      steps: [{ blocks: [{ type: 'email', label: 'Email', required: true }, { type: 'text', name: 'city', label: 'City' }, { type: 'hidden', name: 'plan', from: 'user.plan' }, { type: 'button', label: 'Go', action: 'submit' }] }],
      success: { blocks: [{ type: 'heading', text: 'Thanks' }] },
      messages: { error: 'Fehler.', email: 'Ungültige Adresse.' },
    };
    await show(page, campaign({ type: 'popup' }, content));
    await q(page, 'input[type=email]').fill('ada@example.com');
    await q(page, 'input[name=city]').fill('Lyon');
    const refuse = async (field: string | undefined) => {
      await page.evaluate((field) => ((window as unknown as W).__result = { ok: false, error: 'the server says no', field }), field);
      await q(page, 'button[type=submit]').click();
      await q(page, '.fe').waitFor();
    };

    await refuse('city');
    const city = q(page, 'input[name=city]');
    expect(await city.getAttribute('aria-invalid')).toBe('true');
    expect(await q(page, `#${await city.getAttribute('aria-describedby')}`).textContent()).toBe('Fehler.');
    expect(await focused(page)).toBe('shadow:input#f0-1.in');
    expect(await q(page, '.fe').textContent()).toBe('Fehler.');

    await refuse('email');
    expect(await q(page, '[aria-invalid]').count()).toBe(1);
    expect(await q(page, '.er').textContent()).toBe('Ungültige Adresse.');
    expect(await focused(page)).toBe('shadow:input#f0-0.in');

    // A field the visitor cannot see (hidden, or unknown): the general error alone.
    await refuse('plan');
    expect(await q(page, '[aria-invalid]').count()).toBe(0);
    expect(await q(page, '.fe').textContent()).toBe('Fehler.');
    expect(await calls(page)).toContainEqual(['log', 'poplet ui: sign-up refused']);
    expect(errors).toEqual([]);
  });

  it('submits email, hidden fields from props and UTM, the consent text and the honeypot; then shows success', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'popup' }));
    await q(page, 'input[type=email]').fill('  ada@example.com ');
    await q(page, 'input[type=checkbox]').check();
    await q(page, 'button[type=submit]').click();
    await page.locator('poplet-campaign h2', { hasText: 'Thank you!' }).waitFor();
    const sub = (await calls(page)).find((c) => c[0] == 'submit');
    expect(sub).toEqual(['submit', 7, { email: 'ada@example.com', plan: 'pro', source: 'news' }, 'I agree to receive marketing emails.', '']);
    // Focus follows the visitor to the success step.
    expect(await focused(page)).toBe('shadow:form.st');
  });

  it('passes a filled honeypot on to the host (the server drops it)', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'popup' }));
    const hp = q(page, 'input[name=pl_hp]');
    expect(await hp.getAttribute('tabindex')).toBe('-1');
    expect(await hp.getAttribute('autocomplete')).toBe('off');
    expect(await q(page, '.hp').getAttribute('aria-hidden')).toBe('true');
    // Off screen (above it: left of it gave right-to-left pages a sideways scroll, see render-layouts).
    expect(await hp.evaluate((el) => el.getBoundingClientRect().bottom <= 0)).toBe(true);
    await hp.evaluate((el: HTMLInputElement) => (el.value = 'http://spam.example'));
    await q(page, 'input[type=email]').fill('bot@example.com');
    await q(page, 'input[type=checkbox]').check();
    await q(page, 'button[type=submit]').click();
    await page.waitForFunction(() => (window as unknown as W).__calls.some((c) => c[0] == 'submit'));
    expect((await calls(page)).find((c) => c[0] == 'submit')![4]).toBe('http://spam.example');
  });

  it('shows the error message and no success when the host refuses or throws; one submit at a time', async () => {
    const { page, errors } = await f.open();
    await page.evaluate(() => ((window as unknown as W).__result = { ok: false, error: 'rejected' }));
    await show(page, campaign({ type: 'popup' }, { ...NEWSLETTER, messages: { error: 'Fehler, bitte erneut versuchen.' } }));
    await q(page, 'input[type=email]').fill('ada@example.com');
    await q(page, 'input[type=checkbox]').check();
    await q(page, 'button[type=submit]').click();
    await q(page, '.fe').waitFor();
    expect(await q(page, '.fe').textContent()).toBe('Fehler, bitte erneut versuchen.');
    expect(await q(page, '.fe').getAttribute('role')).toBe('alert');
    expect(await q(page, 'h2').textContent()).toBe('Get 10% off');
    expect(await calls(page)).toContainEqual(['log', 'poplet ui: sign-up refused']);

    await page.evaluate(() => ((window as unknown as W).__result = 'reject'));
    await q(page, 'button[type=submit]').click();
    await page.waitForFunction(() => (window as unknown as W).__calls.filter((c) => c[0] == 'submit').length == 2);
    expect(await q(page, '.fe').textContent()).toBe('Fehler, bitte erneut versuchen.');

    await page.evaluate(() => ((window as unknown as W).__result = 'hang'));
    await q(page, 'button[type=submit]').click();
    await q(page, 'button[aria-disabled=true]').waitFor();
    await q(page, 'button[type=submit]').click({ force: true });
    await q(page, 'input[type=email]').press('Enter');
    await page.waitForTimeout(100);
    expect((await calls(page)).filter((c) => c[0] == 'submit').length).toBe(3);
    expect(errors).toEqual([]);
  });

  it('a refusal that names a field of an earlier step goes back to it, with its message, focus and every value typed kept', async () => {
    const { page, errors } = await f.open();
    await show(page, campaign({ type: 'popup' }, { ...MULTI, messages: { ...MULTI.messages, email: 'Ungültige Adresse.' } }));
    await q(page, 'input[type=email]').fill(' ada@example.com');
    await page.locator('poplet-campaign button', { hasText: 'Next' }).click();
    await q(page, 'input[name=first_name]').fill('Ada');
    await q(page, 'input[name=phone]').fill('+33 6 12 34 56 78');
    await q(page, 'select').selectOption('L');
    await q(page, 'input[name=vip]').check();
    await page.evaluate(() => ((window as unknown as W).__result = { ok: false, error: 'email: not a valid address', field: 'email' }));
    await page.locator('poplet-campaign button', { hasText: 'Send' }).click();
    await q(page, '.fe').waitFor();
    // Back on the first step: the email as typed (trimmed), marked, its message, focused.
    const email = q(page, 'input[type=email]');
    expect(await email.inputValue()).toBe('ada@example.com');
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await q(page, `#${await email.getAttribute('aria-describedby')}`).textContent()).toBe('Ungültige Adresse.');
    expect(await focused(page)).toBe('shadow:input#f0-0.in');
    expect(await q(page, '.fe').textContent()).toBe('Something went wrong. Please try again.');
    // Corrected, the second step comes back as the visitor left it, and the sign-up goes through.
    await page.evaluate(() => ((window as unknown as W).__result = { ok: true, queued: false }));
    await email.fill('ada@example.org');
    await page.locator('poplet-campaign button', { hasText: 'Next' }).click();
    expect(await q(page, 'input[name=first_name]').inputValue()).toBe('Ada');
    expect(await q(page, 'input[name=phone]').inputValue()).toBe('+33 6 12 34 56 78');
    expect(await q(page, 'input[name=age]').inputValue()).toBe('');
    expect(await q(page, 'select').inputValue()).toBe('L');
    expect(await q(page, 'input[name=vip]').isChecked()).toBe(true);
    await page.locator('poplet-campaign button', { hasText: 'Send' }).click();
    await page.locator('poplet-campaign p', { hasText: 'Done.' }).waitFor();
    expect((await calls(page)).filter((c) => c[0] == 'submit').map((c) => c[2])).toEqual([
      { email: 'ada@example.com', first_name: 'Ada', phone: '+33 6 12 34 56 78', size: 'L', vip: 'true' },
      { email: 'ada@example.org', first_name: 'Ada', phone: '+33 6 12 34 56 78', size: 'L', vip: 'true' },
    ]);
    expect(errors).toEqual([]);
  });

  it('a field named like a built-in member (valueOf, constructor) starts empty', async () => {
    const { page } = await f.open();
    const content: Content = {
      label: 'Odd names',
      steps: [{ blocks: [{ type: 'text', name: 'valueOf', label: 'A' }, { type: 'select', name: 'constructor', label: 'B', options: ['x'] }, { type: 'email', label: 'Email' }] }],
      success: { blocks: [] },
    };
    await show(page, campaign({ type: 'popup' }, content));
    expect(await q(page, 'input[name=valueOf]').inputValue()).toBe('');
    expect(await q(page, 'select').inputValue()).toBe('');
    // Nothing is invalid before the visitor sends the step (errors found `constructor` inherited).
    expect(await q(page, '[aria-invalid]').count()).toBe(0);
    expect(await q(page, '.er').count()).toBe(0);
  });

  it('required fields are announced as required, and an untouched one is not announced as invalid', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'slidein', position: 'bottom-right' }));
    const ax = async () => {
      const cdp = await page.context().newCDPSession(page);
      const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: Array<{ role?: { value: string }; properties?: Array<{ name: string; value: { value: unknown } }> }> };
      const props = (role: string) => Object.fromEntries((nodes.find((n) => n.role?.value == role)!.properties ?? []).map((p) => [p.name, p.value.value]));
      return { checkbox: props('checkbox'), textbox: props('textbox') };
    };
    const before = await ax();
    // (Chromium's tree has no `required` for checkboxes, native or ARIA: the attribute is checked.)
    expect([await q(page, 'input[type=checkbox]').getAttribute('aria-required'), before.textbox.required]).toEqual(['true', true]);
    expect([before.checkbox.invalid, before.textbox.invalid]).toEqual(['false', 'false']);
    await q(page, 'button[type=submit]').click();
    const after = await ax();
    expect([after.checkbox.invalid, after.textbox.invalid]).toEqual(['true', 'true']);
  });

  it('a required field shows " *" after its label (WCAG 3.3.2), which screen readers do not read into its name: they hear "required"', async () => {
    const { page } = await f.open();
    // Long enough to wrap in the popup.
    const AGREE = 'I agree to receive marketing emails and understand that I can unsubscribe at any time.';
    const fields: Content = {
      label: 'Fields',
      steps: [
        {
          blocks: [
            // Email: required whatever the campaign says.
            { type: 'email', label: 'Email' },
            { type: 'text', name: 'city', label: 'City' },
            { type: 'select', name: 'size', label: 'Size', options: ['S', 'M'], required: true },
            { type: 'checkbox', name: 'vip', label: 'VIP offers' },
            { type: 'consent', label: AGREE, required: true },
          ],
        },
      ],
      success: { blocks: [] },
    };
    await show(page, campaign({ type: 'popup' }, fields));
    // What a sighted visitor reads: the label of each field as laid out.
    expect(await q(page, '.fd label').evaluateAll((ls) => ls.map((l) => (l as HTMLElement).innerText))).toEqual(['Email *', 'City', 'Size *', 'VIP offers', AGREE + ' *']);
    // The star sits right after the label's text, on its last line (a consent's wraps).
    for (const [field, wraps] of [['input[type=email]', false], ['[name=consent]', true]] as const) {
      const [text, star, lines] = await q(page, `.fd:has(${field}) label`).evaluate((l) => {
        const range = document.createRange();
        range.selectNodeContents(l.querySelector('[aria-hidden]')!.previousSibling!);
        const rects = range.getClientRects();
        return [rects[rects.length - 1]!.toJSON() as DOMRect, l.querySelector('[aria-hidden]')!.getBoundingClientRect().toJSON() as DOMRect, rects.length];
      });
      expect(lines > 1).toBe(wraps);
      expect(star.width).toBeGreaterThan(0);
      expect(Math.abs(star.top - text.top)).toBeLessThan(2);
      expect(Math.abs(star.left - text.right)).toBeLessThan(2);
    }
    // What a screen reader hears: Chromium's accessibility tree names each field by its label alone.
    const cdp = await page.context().newCDPSession(page);
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: Array<{ role?: { value: string }; name?: { value: string }; ignored?: boolean }> };
    const named = nodes.filter((n) => !n.ignored && ['textbox', 'combobox', 'checkbox'].includes(n.role?.value ?? '')).map((n) => `${n.role!.value}: ${n.name?.value}`);
    expect(named).toEqual(['textbox: Email', 'textbox: City', 'combobox: Size', 'checkbox: VIP offers', 'checkbox: ' + AGREE]);
    expect(nodes.some((n) => !n.ignored && /\*/.test(n.name?.value ?? ''))).toBe(false);
  });

  it("a select without its own placeholder shows messages.choose, in English by default", async () => {
    const select = (messages?: Content['messages']): Content => ({
      label: 'Size',
      steps: [{ blocks: [{ type: 'select', name: 'size', label: 'Size', options: ['S', 'M'] }] }],
      success: { blocks: [] },
      messages,
    });
    const firstChoice = (page: Page) => q(page, 'select').evaluate((s: HTMLSelectElement) => [s.value, s.options[0]!.text, s.options[0]!.disabled]);
    const en = (await f.open()).page;
    await show(en, campaign({ type: 'popup' }, select()));
    expect(await firstChoice(en)).toEqual(['', 'Choose…', false]);
    const de = (await f.open()).page;
    await show(de, campaign({ type: 'popup' }, select({ choose: 'Bitte wählen' })));
    expect(await firstChoice(de)).toEqual(['', 'Bitte wählen', false]);
  });

  it('multi-step: validates each step, keeps values across steps, submits them all', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'slidein', position: 'bottom-right' }, MULTI));
    await q(page, 'input[type=email]').fill('ada@example.com');
    await page.locator('poplet-campaign button', { hasText: 'Next' }).click();
    await q(page, 'select').waitFor();
    expect(await focused(page)).toBe('shadow:input#f1-0.in');
    // The select shows its placeholder, which is preselected but cannot be chosen.
    expect(await q(page, 'select').evaluate((s: HTMLSelectElement) => [s.value, s.selectedOptions[0]!.text, s.options[0]!.disabled, s.options[0]!.hidden])).toEqual(['', 'Pick a size', true, true]);
    // Autofill: the token a text field asks for, the email and phone fields' own, none on a number.
    expect(await q(page, 'input.in').evaluateAll((l: HTMLInputElement[]) => l.map((i) => [i.name, i.getAttribute('autocomplete')]))).toEqual([
      ['first_name', 'given-name'],
      ['phone', 'tel'],
      ['age', null],
    ]);
    await q(page, 'input[name=phone]').fill('12');
    await q(page, 'input[name=age]').fill('old');
    await page.locator('poplet-campaign button', { hasText: 'Send' }).click();
    expect(await q(page, '.er').allTextContents()).toEqual(['Ungültige Telefonnummer.', 'Keine Zahl.', 'Pflichtfeld.']);
    await q(page, 'input[name=first_name]').fill('Ada <img src=x onerror=alert(1)>');
    await q(page, 'input[name=phone]').fill('+33 (0)6 12-34-56-78');
    await q(page, 'input[name=age]').fill('36,5');
    await q(page, 'select').selectOption('M');
    await q(page, 'input[name=vip]').check();
    await page.locator('poplet-campaign button', { hasText: 'Send' }).click();
    await page.locator('poplet-campaign p', { hasText: 'Done.' }).waitFor();
    expect((await calls(page)).find((c) => c[0] == 'submit')).toEqual([
      'submit', 7,
      { email: 'ada@example.com', first_name: 'Ada <img src=x onerror=alert(1)>', phone: '+33 (0)6 12-34-56-78', age: '36,5', size: 'M', vip: 'true' },
      null, '',
    ]);
  });

  it('the success step is announced when it replaces the form', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'popup' }));
    expect(await q(page, '[role=alert]').count()).toBe(0);
    await q(page, 'input[type=email]').fill('ada@example.com');
    await q(page, 'input[type=checkbox]').check();
    await q(page, 'button[type=submit]').click();
    await page.locator('poplet-campaign h2', { hasText: 'Thank you!' }).waitFor();
    const alert = q(page, '[role=alert]');
    expect(await alert.count()).toBe(1);
    expect(await alert.evaluate((e) => [e.querySelector('h2')?.textContent, e.querySelector('button')?.textContent])).toEqual(['Thank you!', 'Close']);
  });

  it('a submit button with no fields goes straight to the success step without a sign-up', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'bar', position: 'top' }, { label: 'Promo', steps: [{ blocks: [{ type: 'button', label: 'Reveal code', action: 'submit' }] }], success: { blocks: [{ type: 'heading', text: 'CODE10' }] } }));
    await q(page, 'button[type=submit]').click();
    await page.locator('poplet-campaign h2', { hasText: 'CODE10' }).waitFor();
    expect((await calls(page)).filter((c) => c[0] == 'submit')).toEqual([]);
  });

  it('a next or submit button on the success step (refused by the validator, drawn anyway) closes the campaign', async () => {
    for (const action of ['next', 'submit'] as const) {
      const { page, errors } = await f.open();
      const content = { ...NEWSLETTER, success: { blocks: [{ type: 'heading' as const, text: 'Thanks' }, { type: 'button' as const, label: 'Continue', action }] } };
      await show(page, campaign({ type: 'popup' }, content));
      await q(page, 'input[type=email]').fill('ada@example.com');
      await q(page, 'input[type=checkbox]').check();
      await q(page, 'button[type=submit]').click();
      await page.locator('poplet-campaign h2', { hasText: 'Thanks' }).waitFor();
      await page.locator('poplet-campaign button', { hasText: 'Continue' }).click();
      await page.waitForFunction(() => !document.querySelector('poplet-campaign'));
      const seen = await calls(page);
      expect(seen.filter((c) => c[0] != 'submit'), action).toEqual([['displayed', 7], ['closed', 7]]);
      expect(errors).toEqual([]);
      await page.context().close();
    }
  });
});

describe('buttons and links', () => {
  it('"Don\'t show popups again" records the close, fades out, then calls noshow', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'popup' }));
    // As the engine does: noshow re-runs it, which destroys every campaign still shown, at once
    // and without a close; a campaign that reported its close has left the engine's list.
    await page.evaluate(() => {
      const w = window as unknown as W & { __host: { closed(c: unknown): void; noshow(): void } };
      const { closed, noshow } = w.__host;
      let gone = false;
      w.__host.closed = (c) => ((gone = true), closed(c));
      w.__host.noshow = () => (noshow(), gone || w.__shown.destroy());
    });
    expect(await q(page, '.ns').textContent()).toBe("Don't show popups again");
    // Clicked and looked at in one task of the page: the fade-out lasts 180 ms, less than two round
    // trips to a page on a loaded machine take (the element was gone by the time it was counted).
    const fading = await page.evaluate(() => {
      const root = document.querySelector('poplet-campaign')!.shadowRoot!;
      root.querySelector<HTMLElement>('.ns')!.click();
      return root.querySelectorAll('dialog.out').length;
    });
    expect((await calls(page)).map((c) => c[0])).toEqual(['displayed', 'closed', 'noshow']);
    // Still there, fading out, then gone.
    expect(fading).toBe(1);
    await page.waitForFunction(() => !document.querySelector('poplet-campaign'));
  });

  it('link buttons and rich-text links are tracked; link buttons close the campaign; close buttons close', async () => {
    const { page } = await f.open();
    const content: Content = {
      label: 'Promo',
      steps: [{ blocks: [
        { type: 'paragraph', text: 'See <a href="https://example.com/terms">terms</a>', html: true },
        { type: 'button', label: 'Shop now', action: 'link', href: 'https://example.com/shop', newTab: true },
        { type: 'button', label: 'No thanks', action: 'close', secondary: true },
      ] }],
      success: { blocks: [] },
    };
    await show(page, campaign({ type: 'popup' }, content));
    const terms = q(page, 'p a');
    expect([await terms.getAttribute('target'), await terms.getAttribute('rel')]).toEqual(['_blank', 'noopener noreferrer']);
    await page.context().route('https://example.com/**', (r) => r.fulfill({ body: 'ok' }));
    const [popup] = await Promise.all([page.waitForEvent('popup'), terms.click()]);
    await popup.close();
    const [popup2] = await Promise.all([page.waitForEvent('popup'), page.locator('poplet-campaign a.b').click()]);
    await popup2.close();
    await page.waitForFunction(() => !document.querySelector('poplet-campaign'));
    expect((await calls(page)).slice(1)).toEqual([['clicked', 7, 'https://example.com/terms'], ['clicked', 7, 'https://example.com/shop'], ['closed', 7]]);

    await show(page, campaign({ type: 'popup' }, content, 8));
    await page.locator('poplet-campaign button', { hasText: 'No thanks' }).click();
    await page.waitForFunction(() => !document.querySelector('poplet-campaign'));
    expect((await calls(page)).slice(-1)).toEqual([['closed', 8]]);
  });

  it('no timer runs for content without a countdown; one countdown, on the success step, starts it and ticks', async () => {
    const { page } = await f.open();
    // Time moves when the test says (runFor), on top of its own flow.
    await page.clock.install();
    // Every setInterval the chunk asks for (it names the global at call time).
    await page.evaluate(() => {
      const w = window as unknown as { __intervals: number; setInterval: typeof setInterval };
      const set = w.setInterval;
      w.__intervals = 0;
      w.setInterval = ((fn: () => void, ms?: number) => (w.__intervals++, set(fn, ms))) as typeof setInterval;
    });
    const intervals = () => page.evaluate(() => (window as unknown as { __intervals: number }).__intervals);
    await show(page, campaign({ type: 'popup' }));
    await page.clock.runFor(3000);
    // The old App drew every campaign again every second, countdown or not.
    expect(await intervals()).toBe(0);
    await page.evaluate(() => (window as unknown as W).__shown.destroy());
    const until = await page.evaluate(() => new Date(Date.now() + 3600e3 + 0.5e3).toISOString());
    await show(page, campaign({ type: 'popup' }, { ...NEWSLETTER, success: { blocks: [{ type: 'heading', text: 'Thank you!' }, { type: 'countdown', until }] } }));
    expect(await intervals()).toBe(0);
    await q(page, 'input[type=email]').fill('ada@example.com');
    await q(page, 'input[type=checkbox]').check();
    await q(page, 'button[type=submit]').click();
    const t = q(page, '[role=timer]');
    await t.waitFor();
    expect(await intervals()).toBe(1);
    const left = async () => (await t.textContent())!;
    const before = await left();
    // Two ticks at least, a second apart: the time shown goes down.
    await page.clock.runFor(2000);
    const toS = (s: string) => s.split(':').reduce((a, b) => a * 60 + +b, 0);
    expect(toS(await left())).toBeLessThan(toS(before));
    expect(await intervals()).toBe(1);
  });

  it('countdown shows the time left and ticks', async () => {
    const { page } = await f.open();
    const until = await page.evaluate(() => new Date(Date.now() + 2 * 86400e3 + 3 * 3600e3 + 4 * 60e3 + 5.5e3).toISOString());
    await show(page, campaign({ type: 'embed', selector: '#slot' }, { label: 'Sale', steps: [{ blocks: [{ type: 'countdown', until, label: 'Sale ends in' }] }], success: { blocks: [] } }));
    const t = q(page, '[role=timer]');
    expect(await t.getAttribute('aria-label')).toBe('Sale ends in');
    expect(await t.textContent()).toMatch(/^2d 03:04:0[45]$/);
    await page.waitForFunction(() => /03:04:0[34]$/.test(document.querySelector('poplet-campaign')!.shadowRoot!.querySelector('[role=timer]')!.textContent!));
  });
});

describe('keyboard and focus', () => {
  it('popup: focus moves in, Tab and Shift+Tab are trapped, Esc closes, focus returns', async () => {
    const { page } = await f.open();
    await page.locator('#before').focus();
    await show(page, campaign({ type: 'popup' }));
    expect(await focused(page)).toBe('shadow:input#f0-2.in');
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      seen.push(await focused(page));
    }
    // email → consent → (link in text? none) → submit → noshow → close → back to the start
    expect(seen).toEqual(['shadow:input#f0-3', 'shadow:button.b', 'shadow:button.ns', 'shadow:button.x icon', 'shadow:input#f0-2.in', 'shadow:input#f0-3']);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    expect(await focused(page)).toBe('shadow:button.ns');
    // The page behind is inert: a script cannot move focus there, a click there reaches nothing.
    const reach = () =>
      page.locator('#before').evaluate((b: HTMLElement) => {
        let n = 0;
        const count = () => n++;
        b.addEventListener('focus', count);
        b.addEventListener('click', count);
        b.focus();
        const r = b.getBoundingClientRect();
        const at = document.elementFromPoint(r.x + 2, r.y + 2);
        b.removeEventListener('focus', count);
        b.removeEventListener('click', count);
        return { n, hit: at == b };
      });
    expect(await reach()).toEqual({ n: 0, hit: false });
    expect(await focused(page)).toMatch(/^shadow:/);
    await page.keyboard.press('Escape');
    expect(await focused(page)).toBe('button#before');
    // Inert no longer, at once, while the fade-out still plays.
    expect(await page.locator('poplet-campaign').count()).toBe(1);
    await page.locator('#before').evaluate((b: HTMLElement) => b.blur());
    expect(await reach()).toEqual({ n: 1, hit: true });
    expect((await calls(page)).map((c) => c[0])).toEqual(['displayed', 'closed']);
  });

  it("a modal the page opens over the popup keeps its own keys: Tab moves in it, Esc closes it, not the popup", async () => {
    const { page } = await f.open({ body: '<dialog id="gate"><button id="yes">Yes</button><button id="no">No</button></dialog>' });
    await show(page, campaign({ type: 'popup' }));
    await page.evaluate(() => (document.getElementById('gate') as HTMLDialogElement).showModal());
    expect(await focused(page)).toBe('button#yes');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('button#no');
    await page.keyboard.press('Escape');
    expect(await page.evaluate(() => (document.getElementById('gate') as HTMLDialogElement).open)).toBe(false);
    expect((await calls(page)).map((c) => c[0])).toEqual(['displayed']);
    expect(await box(page).isVisible()).toBe(true);
  });

  it('without showModal (Safari before 15.4): a dialog role, aria-modal and the focus trap', async () => {
    const { page } = await f.open();
    await page.evaluate(() => delete (HTMLDialogElement.prototype as Partial<HTMLDialogElement>).showModal);
    await page.locator('#before').focus();
    await show(page, campaign({ type: 'popup' }));
    const d = page.locator('poplet-campaign dialog');
    expect(await d.evaluate((e) => [e.getAttribute('role'), e.getAttribute('aria-modal'), e.getAttribute('aria-label'), e.matches(':modal')])).toEqual(['dialog', 'true', 'Newsletter sign-up', false]);
    expect(await box(page).isVisible()).toBe(true);
    expect(await focused(page)).toBe('shadow:input#f0-2.in');
    // Focus pushed out by a script comes back.
    await page.locator('#before').evaluate((b: HTMLElement) => b.focus());
    expect(await focused(page)).toMatch(/^shadow:/);
    await page.keyboard.press('Escape');
    expect(await focused(page)).toBe('button#before');
  });

  it('fullscreen: the close button closes and focus returns', async () => {
    const { page } = await f.open();
    await page.locator('#before').focus();
    await show(page, campaign({ type: 'fullscreen' }));
    expect(await focused(page)).toMatch(/^shadow:/);
    await q(page, '.x').focus();
    await page.keyboard.press('Enter');
    expect(await focused(page)).toBe('button#before');
  });

  it('slide-in: takes no focus, does not trap Tab; Esc closes only when focus is inside', async () => {
    const { page } = await f.open();
    await page.locator('#before').focus();
    await show(page, campaign({ type: 'slidein', position: 'bottom-left' }));
    expect(await focused(page)).toBe('button#before');
    await page.keyboard.press('Escape');
    expect(await box(page).isVisible()).toBe(true);
    // Tab from its last control leaves it.
    await q(page, '.ns').focus();
    await page.keyboard.press('Tab');
    expect(await focused(page)).not.toMatch(/^shadow:/);
    await q(page, 'input[type=email]').focus();
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('poplet-campaign'));
    expect(await focused(page)).toBe('button#before');
  });

  it('a sign-up answered late does not pull focus back from where the visitor went on the page; answered at once, focus follows it', async () => {
    for (const layout of [{ type: 'slidein', position: 'bottom-right' }, { type: 'embed', selector: '#slot' }] as const) {
      for (const result of [{ ok: true, queued: false }, { ok: false, error: 'email: not a valid address', field: 'email' }]) {
        const { page } = await f.open({ body: '<main><input id="search" aria-label="Search"><div id="slot"></div></main>' });
        // The host answers only when the test says so (a slow server).
        await page.evaluate(() => ((window as unknown as W & { __host: { submit(): Promise<unknown> } }).__host.submit = () => new Promise((r) => ((window as unknown as { __answer: unknown }).__answer = r))));
        await show(page, campaign(layout));
        const answer = () => page.evaluate((r) => (window as unknown as { __answer(r: unknown): void }).__answer(r), result);
        const drawn = () => (result.ok ? q(page, 'h2').filter({ hasText: 'Thank you!' }) : q(page, '[aria-invalid]')).waitFor();
        await q(page, 'input[type=email]').fill('ada@example.com');
        await q(page, 'input[type=checkbox]').check();
        await q(page, 'button[type=submit]').click();
        await page.waitForFunction(() => (window as unknown as { __answer?: unknown }).__answer);
        // Meanwhile the visitor types in the page's search field.
        await page.locator('#search').click();
        await page.keyboard.type('sho');
        await answer();
        await drawn();
        await page.keyboard.type('es');
        expect(await page.locator('#search').inputValue()).toBe('shoes');
        expect(await focused(page)).toBe('input#search');

        // The visitor who stays gets the focus moved to what replaced the step, or to the field refused.
        await page.evaluate(() => (window as unknown as W).__shown.destroy());
        await show(page, campaign(layout));
        await q(page, 'input[type=email]').fill('ada@example.com');
        await q(page, 'input[type=checkbox]').check();
        await q(page, 'button[type=submit]').click();
        await answer();
        await drawn();
        expect(await focused(page)).toBe(result.ok ? 'shadow:form.st' : 'shadow:input#f0-2.in');
      }
    }
  });

  it('destroy() removes without recording a close', async () => {
    const { page } = await f.open();
    await show(page, campaign({ type: 'popup' }));
    await page.evaluate(() => (window as unknown as W).__shown.destroy());
    expect(await page.locator('poplet-campaign').count()).toBe(0);
    expect((await calls(page)).map((c) => c[0])).toEqual(['displayed']);
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).overflow)).toBe('visible');
  });
});
