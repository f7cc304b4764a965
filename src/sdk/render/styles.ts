// The chunk's stylesheet, adopted into each campaign's shadow root. Every value a campaign may
// style reads a --pl-* custom property (set from content.style, or inherited from the site).
// The accent, the radius and the error colours are written out where used: gzip packs the repeats
// into fewer bytes than constants interpolated into the template cost in the built chunk.

// Each line ends in a template-literal line continuation, so the shipped string has no newlines.
// The host is display:contents, so an embed's box sits in the page flow and fixed layers take
// the top z-index (the host comes last in the document, so it wins ties).
// The dialog's position and inset come after its `all:unset`, in the fixed layers' rules, so they
// take. A popup's root (.r.popup) is its overlay.
// Words longer than the box break anywhere (a long URL must not scroll the box sideways).
// Bars, full screens, phone sheets and slide-ins at a screen edge keep clear of the notch and
// the home indicator (viewport-fit=cover) by a transparent border of the safe-area inset: their
// background still reaches the edge, and the close button (placed in the padding box) follows.
// The close button sits at the inline end (left on right-to-left pages) above the first line: the
// room for it is the step's top margin after it, so a box without one (closeButton: none) has no
// gap at its top. A bar's step takes no margin: its button sits in the bar's side padding.
// The honeypot is above the page (left of it, a transformed parent on a right-to-left page
// scrolled sideways to it).
// Fields and buttons fill the box's width (a bar's buttons excepted).
// Where motion is reduced a campaign that leaves is hidden at once (no fade); mount removes it
// after the fade's time either way.
// A full screen centres with `safe center`: plain `center` pushes content taller than the viewport
// above the scroll origin, out of reach. Browsers without `safe` (Safari before 17.6) drop the
// declaration and start the content at the top: not centred, never cut.
const CSS = `:host{all:initial!important;display:contents!important}\
*{box-sizing:border-box}\
.r{font:16px/1.45 var(--pl-font,system-ui,sans-serif);color:var(--pl-color,#1a1a1a);overflow-wrap:anywhere}\
dialog{all:unset}::backdrop{background:0}\
dialog,.popup,.bar .bx,.slidein .bx,.fullscreen .bx{position:fixed;z-index:2147483647}dialog,.popup,.fullscreen .bx{inset:0}\
.popup{display:flex;align-items:center;justify-content:center;padding:16px;background:var(--pl-overlay,#0009);animation:pl-f .2s}\
.bx{position:relative;background:var(--pl-background,#fff);border-radius:var(--pl-radius,12px);box-shadow:0 8px 40px #0005;padding:16px 24px;width:100%;max-width:var(--pl-width,440px);max-height:100%;overflow:auto;animation:pl-u .25s}\
.slidein .bx{max-width:var(--pl-width,360px);width:calc(100% - 32px);max-height:calc(100% - 32px);margin:16px}\
.top .bx{top:0}.bottom .bx{bottom:0}.left .bx{left:0}.right .bx{right:0}\
.bar .bx{left:0;right:0;max-width:none;border-radius:0;padding:10px 48px}\
.top .bx,.fullscreen .bx{border-top:env(safe-area-inset-top) solid #0000}.bottom .bx,.popup .bx,.fullscreen .bx{border-bottom:env(safe-area-inset-bottom) solid #0000}\
.x+.st{margin-top:30px}.bar .st,.bar .st>*{margin:0}\
.bar .bx,.bar .st{display:flex;flex-flow:wrap;align-items:center;justify-content:center;gap:4px 16px;text-align:center}\
.bar .b{width:auto}.bar .fd{min-width:200px}\
.fullscreen .bx{max-width:none;border-radius:0;display:flex;flex-flow:column;justify-content:safe center;align-items:center}\
.fullscreen .st{width:100%;max-width:var(--pl-width,560px)}\
.embed .bx{max-width:none;box-shadow:none;border:1px solid #ccc;animation:none}\
.st>*,p{margin:0 0 12px}\
h2{font-size:1.5em;line-height:1.2;text-wrap:balance}\
.st,.bx{outline:0}\
a{color:inherit}\
img{display:block;max-width:100%;height:auto}\
.b,.in{display:block;width:100%;font:inherit;border-radius:calc(var(--pl-radius,12px)/2);min-height:44px}\
.b{padding:10px 18px;border:2px solid var(--pl-accent,#1f4fd1);background:var(--pl-accent,#1f4fd1);color:var(--pl-accent-text,#fff);font-weight:600;cursor:pointer;text-align:center;text-decoration:none}\
.b.s{background:0;color:inherit;border-color:initial}\
.b[aria-disabled]{opacity:.7}\
label{display:block;font-weight:600;margin-bottom:4px}\
.in{padding:8px 12px;border:1px solid #6b6b6b;background:#fff;color:#1a1a1a}\
.in[aria-invalid]{border:2px solid #b00020}\
.ck{display:flex;gap:8px;font-weight:400}\
.ck input{width:20px;height:20px;margin:2px 0 0;flex:none;accent-color:var(--pl-accent,#1f4fd1)}\
.er,.fe{color:#b00020;background:#fff;padding:8px}\
.er{display:table;font-size:.9em;margin:4px -6px 0;padding:1px 6px;border-radius:4px}\
.cd{font:700 1.6em monospace}\
.x,.ns{background:0;border:0;color:inherit;font:inherit;cursor:pointer}\
.x{position:absolute;top:6px;inset-inline-end:6px;min-width:40px;height:40px;padding:0 8px}\
.icon{font-size:30px;line-height:1}\
.ns{padding:6px 2px;font-size:13px;text-decoration:underline}\
.hp{position:fixed;top:-1e4px}\
.out{pointer-events:none}.out .bx,.out .popup{animation:pl-f .18s reverse forwards}\
@keyframes pl-f{from{opacity:0}}\
@keyframes pl-u{from{opacity:0;transform:translateY(24px)}}\
@media(max-width:600px){.popup{align-items:flex-end;padding:0}.popup .bx,.slidein .bx{max-width:none;border-radius:var(--pl-radius,12px) var(--pl-radius,12px) 0 0}.slidein .bx{width:100%;margin:0;left:0;right:0}}\
@media(prefers-reduced-motion:reduce){*{animation:none!important}.out{display:none}}`;

let sheet: CSSStyleSheet | undefined;

/** Constructable stylesheet where supported (no CSP needed), else a <style> with the page's nonce. */
export function adoptStyles(root: ShadowRoot, nonce?: string): void {
  try {
    if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch {
    const el = document.createElement('style');
    // Without a nonce: "undefined", which matches no policy's nonce, as none would.
    el.nonce = nonce!;
    el.textContent = CSS;
    root.appendChild(el);
  }
}
