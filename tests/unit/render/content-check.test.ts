import { describe, expect, it } from 'vitest';
import { checkContent, checkLayout, isSafeUrl } from '../../../src/shared/campaign-content';

const ok = {
  label: 'Newsletter',
  steps: [
    {
      blocks: [
        { type: 'heading', text: 'Join us' },
        { type: 'paragraph', text: '<b>10%</b> off', html: true },
        { type: 'image', src: 'https://cdn.example.com/a.png', alt: '' },
        { type: 'countdown', until: '2030-01-01T00:00:00Z', label: 'Ends in' },
        { type: 'email', label: 'Email', required: true },
        { type: 'select', name: 'size', label: 'Size', options: ['S', 'M'] },
        { type: 'consent', label: 'I agree to receive emails', required: true },
        { type: 'hidden', name: 'plan', from: 'user.plan' },
        { type: 'button', label: 'Next', action: 'next' },
      ],
    },
    { blocks: [{ type: 'phone', name: 'phone', label: 'Phone' }, { type: 'button', label: 'Send', action: 'submit' }] },
  ],
  success: { blocks: [{ type: 'heading', text: 'Thanks' }, { type: 'button', label: 'Shop', action: 'link', href: '/shop' }] },
  style: { accent: '#123456', radius: 4, closeButton: 'text' },
  messages: { required: 'Pflichtfeld' },
};

const withBlock = (b: unknown) => ({ ...ok, steps: [{ blocks: [b] }] });

describe('checkContent', () => {
  it('accepts a full multi-step form', () => {
    expect(checkContent(ok, 'content')).toBeNull();
  });

  it.each([
    [null, 'content: must be an object'],
    [{ ...ok, label: '' }, 'content.label: must be a non-empty string'],
    [{ ...ok, steps: [] }, 'content.steps: must be a non-empty list'],
    [{ ...ok, success: {} }, 'content.success.blocks: must be a list'],
    [withBlock({ type: 'video' }), "content.steps[0].blocks[0].type: unknown block 'video'"],
    [withBlock({ type: 'heading' }), 'content.steps[0].blocks[0].text: required'],
    [withBlock({ type: 'button', label: 'Go', action: 'jump' }), 'content.steps[0].blocks[0].action: must be one of link, close, next, submit'],
    [withBlock({ type: 'button', label: 'Go', action: 'link' }), 'content.steps[0].blocks[0].href: required'],
    [withBlock({ type: 'button', label: 'Go', action: 'link', href: 'javascript:alert(1)' }), 'content.steps[0].blocks[0].href: must be an http(s), mailto, tel or relative URL'],
    [withBlock({ type: 'image', src: 'data:text/html,x', alt: 'x' }), 'content.steps[0].blocks[0].src: must be an http(s), mailto, tel or relative URL'],
    [withBlock({ type: 'countdown', until: 'soon' }), 'content.steps[0].blocks[0].until: must be an ISO date'],
    [withBlock({ type: 'select', name: 's', label: 'S', options: [] }), 'content.steps[0].blocks[0].options: must be a non-empty list of strings'],
    [withBlock({ type: 'text', name: 'n', label: 'Name' }), 'content.steps: a form needs an email field'],
    [{ ...ok, steps: [{ blocks: [{ type: 'email', label: 'E' }, { type: 'email', label: 'E2' }] }] }, "content.steps[0].blocks[1].name: duplicate field name 'email'"],
    [{ ...ok, style: { radius: -1 } }, 'content.style.radius: must be a number >= 0'],
    [{ ...ok, style: { closeButton: 'big' } }, 'content.style.closeButton: must be one of icon, text, none'],
    [{ ...ok, messages: { error: 3 } }, 'content.messages.error: must be a string'],
    [{ ...ok, noshowLink: 'no' }, 'content.noshowLink: must be true or false'],
    // What a sign-up may carry (SIGNUP_LIMITS): past it, the server would refuse every sign-up.
    [{ ...ok, steps: [{ blocks: [{ type: 'email', label: 'E' }, { type: 'text', name: 'n'.repeat(51), label: 'N' }] }] }, 'content.steps[0].blocks[1].name: at most 50 characters'],
    [{ ...ok, steps: [{ blocks: [{ type: 'email', label: 'E' }, { type: 'consent', label: 'c'.repeat(1001) }] }] }, 'content.steps[0].blocks[1].label: at most 1000 characters'],
    // The success step is the last: nothing comes next and nothing is left to submit.
    [{ ...ok, success: { blocks: [{ type: 'button', label: 'Go on', action: 'next' }] } }, 'content.success.blocks[0].action: must be close or link in the success step'],
    [{ ...ok, success: { blocks: [{ type: 'heading', text: 'Thanks' }, { type: 'button', label: 'Send', action: 'submit' }] } }, 'content.success.blocks[1].action: must be close or link in the success step'],
  ])('rejects %#', (x, msg) => {
    expect(checkContent(x, 'content')).toBe(msg);
  });

  it('takes names and consent texts up to the sign-up limits', () => {
    const edge = { ...ok, steps: [{ blocks: [{ type: 'email', label: 'E', name: 'e'.repeat(50) }, { type: 'consent', label: 'c'.repeat(1000) }] }] };
    expect(checkContent(edge, 'content')).toBeNull();
  });

  it('uses the given path prefix', () => {
    expect(checkContent({ ...ok, label: 1 }, 'variants[0].content')).toBe('variants[0].content.label: must be a non-empty string');
  });
});

describe('checkLayout', () => {
  it.each([
    { type: 'popup' },
    { type: 'fullscreen' },
    { type: 'bar', position: 'top', push: true },
    { type: 'bar', position: 'bottom' },
    { type: 'slidein', position: 'bottom-left' },
    { type: 'embed', selector: '#signup' },
  ])('accepts %j', (l) => expect(checkLayout(l)).toBeNull());

  it.each([
    [{ type: 'modal' }, 'layout.type: must be one of popup, fullscreen, bar, slidein, embed'],
    ['popup', 'layout.type: must be one of popup, fullscreen, bar, slidein, embed'],
    [{ type: 'bar' }, 'layout.position: required'],
    [{ type: 'bar', position: 'left' }, 'layout.position: must be one of top, bottom'],
    [{ type: 'bar', position: 'top', push: 1 }, 'layout.push: must be true or false'],
    [{ type: 'slidein', position: 'center' }, 'layout.position: must be one of top-left, top-right, bottom-left, bottom-right'],
    [{ type: 'embed', selector: ' ' }, 'layout.selector: must be a non-empty string'],
  ])('rejects %j', (l, msg) => expect(checkLayout(l)).toBe(msg));
});

describe('isSafeUrl', () => {
  it.each(['https://a.example/x', 'http://a', 'mailto:a@b.c', 'tel:+331', '/shop', 'shop.html', '?a=1', '#top', '//cdn.example/x'])('allows %s', (u) =>
    expect(isSafeUrl(u)).toBe(true),
  );
  it.each(['javascript:alert(1)', 'JaVaScRiPt:x', 'java\tscript:x', ' javascript:x', '\u0001javascript:x', 'vbscript:x', 'data:text/html,<script>', 'blob:https://a/x'])(
    'refuses %j',
    (u) => expect(isSafeUrl(u)).toBe(false),
  );
});
