// The chunk's stylesheet, adopted into each campaign's shadow root. Every value a campaign may
// style reads a --pl-* custom property (set from content.style, or inherited from the site).
// The accent, the radius and the error colours are written out where used: gzip packs the repeats
// into fewer bytes than constants interpolated into the template cost in the built chunk.

// Each line ends in a template-literal line continuation, so the shipped string has no newlines.
// Declarations, the selectors of a rule, and rules that set no property in common stand in the
// order that gzips smallest, which says nothing else; two rules that set one property keep theirs
// (the later wins a tie of specificity).
// The host is display:contents, so an embed's box sits in the page flow and fixed layers take
// the top z-index (the host comes last in the document, so it wins ties).
// The dialog's position and inset come after its `all:unset`, in the fixed layers' rules, so they
// take. A popup's root (.r.popup) is its overlay.
// The box's transparent outline (no space taken, nothing drawn) is what bounds it in forced colors
// (Windows high contrast), which drop its background and shadow and draw the outline in the text
// colour; an embed's border merges with it. Buttons keep the border their accent fill hides.
// A heading's size is the browser's own for h2 (1.5em).
// A bar or a slide-in sits `--pl-o` from its edge: the extent of what is stacked before it there
// (mount.tsx sets it on the box: 0 for a bar, a bar's extent for a slide-in at the same edge, which
// gives up as much of its height).
// Words longer than the box break anywhere (a long URL must not scroll the box sideways).
// Bars, full screens, phone sheets and slide-ins at a screen edge keep clear of the notch and
// the home indicator (viewport-fit=cover) by a transparent border of the safe-area inset: their
// background still reaches the edge, and the close button (placed in the padding box) follows.
// The border is the inset less the box's --pl-o (none on a modal): a slide-in beside a bar, which
// already covers the inset, keeps no room of its own there (a calc() below 0 is a 0 width).
// The close button sits at the inline end (left on right-to-left pages) above the first line: the
// room for it is the step's top margin after it, so a box without one (closeButton: none) has no
// gap at its top. A bar's step takes no margin: its icon sits in the bar's side padding. A text
// button is wider than that padding (and as wide as its language makes it): it gets the top line to
// itself there too, the room above the step being the button's 46 px less the bar's 10 px padding.
// The honeypot is above the page (left of it, a transformed parent on a right-to-left page
// scrolled sideways to it).
// Fields and buttons fill the box's width (a bar's buttons excepted).
// Where motion is reduced a campaign that leaves is hidden at once (no fade); mount removes it
// after the fade's time either way.
// On a phone a popup or a slide-in is a full-width sheet against the screen's edge, its corners
// rounded on the side facing the page: a top slide-in's are its bottom ones (a bar has its own
// top and bottom classes, and no rounded corner).
// A full screen centres with `safe center`: plain `center` pushes content taller than the viewport
// above the scroll origin, out of reach. Browsers without `safe` (Safari before 17.6) drop the
// declaration and start the content at the top: not centred, never cut.
const CSS = `:host{all:initial!important;display:contents!important}\
*{box-sizing:border-box}\
.r{color:var(--pl-color,#1a1a1a);font:16px/1.45 var(--pl-font,system-ui,sans-serif);overflow-wrap:anywhere}\
dialog{all:unset}\
h2{line-height:1.2;text-wrap:balance}\
::backdrop{background:0}\
.st{outline:0}\
.bx{outline:1px solid #0000}\
.b[aria-disabled]{opacity:.7}\
.popup,dialog,.fullscreen .bx{inset:0}\
.top .bx{top:var(--pl-o)}\
.top .bx,.fullscreen .bx{border-top:calc(env(safe-area-inset-top) - var(--pl-o,0px)) solid #0000}\
.bottom .bx,.popup .bx,.fullscreen .bx{border-bottom:calc(env(safe-area-inset-bottom) - var(--pl-o,0px)) solid #0000}\
.bottom .bx{bottom:var(--pl-o)}\
.bar .bx,.fullscreen .bx,.popup,dialog,.slidein .bx{z-index:2147483647;position:fixed}\
@keyframes pl-f{from{opacity:0}}\
@keyframes pl-u{from{opacity:0;transform:translateY(24px)}}\
.popup{animation:pl-f .2s;background:var(--pl-overlay,#0009);display:flex;justify-content:center;align-items:center;padding:16px}\
.bar .st,.bar .bx{text-align:center;gap:4px 16px;display:flex;justify-content:center;align-items:center;flex-flow:wrap}\
.bx{animation:pl-u .25s;position:relative;max-height:100%;padding:16px 24px;width:100%;border-radius:var(--pl-radius,12px);max-width:var(--pl-width,440px);box-shadow:0 8px 40px #0005;background:var(--pl-background,#fff);overflow:auto}\
.slidein .bx{width:calc(100% - 32px);max-height:calc(100% - 32px - var(--pl-o));margin:16px;max-width:var(--pl-width,360px)}\
.left .bx{left:0}\
.bar .b{width:auto}\
.right .bx{right:0}\
.bar .bx{left:0;padding:10px 48px;max-width:none;border-radius:0}\
.fullscreen .bx{display:flex;justify-content:safe center;align-items:center;flex-flow:column;max-width:none;border-radius:0}\
.fullscreen .st{width:100%;max-width:var(--pl-width,560px)}\
.embed .bx{animation:none;border:1px solid #ccc;box-shadow:none;max-width:none}\
img{display:block;max-width:100%;height:auto}\
a{color:inherit}\
.b,.in{display:block;min-height:44px;width:100%;border-radius:calc(var(--pl-radius,12px)/2);font:inherit}\
.b{color:var(--pl-accent-text,#fff);text-align:center;cursor:pointer;background:var(--pl-accent,#1f4fd1);text-decoration:none;border:2px solid var(--pl-accent,#1f4fd1);padding:10px 18px;font-weight:600}\
.b.s{background:0;color:inherit;border-color:initial}\
.in{padding:8px 12px;background:#fff;color:#1a1a1a;border:1px solid #6b6b6b}\
.x+.st{margin-top:30px}\
.bar .text+.st{margin-top:36px}\
.bar .st,.bar .st>*{margin:0}\
.fe,.er{padding:8px;background:#fff;color:#b00020}\
.in[aria-invalid]{border:2px solid #b00020}\
p,.st>*{margin:0 0 12px}\
label{display:block;margin-bottom:4px;font-weight:600}\
.ck{display:flex;gap:8px;font-weight:400}\
.ck input{margin:2px 0 0;height:20px;width:20px;accent-color:var(--pl-accent,#1f4fd1);flex:none}\
.er{padding:1px 6px;display:table;border-radius:4px;font-size:.9em;margin:4px -6px 0}\
.cd{font:700 1.6em monospace}\
.ns,.x{background:0;color:inherit;border:0;cursor:pointer;font:inherit}\
.icon{line-height:1;font-size:30px}\
.bar .fd{min-width:200px}\
.out .bx,.out .popup{animation:pl-f .18s reverse forwards}\
.out{pointer-events:none}\
.x{top:6px;inset-inline-end:6px;height:40px;min-width:40px;padding:0 8px;position:absolute}\
.ns{text-decoration:underline;font-size:13px;padding:6px 2px}\
.hp{top:-1e4px;position:fixed}\
@media(max-width:600px){.popup{padding:0;align-items:flex-end}.slidein .bx,.popup .bx{margin:0;width:100%;border-radius:var(--pl-radius,12px) var(--pl-radius,12px) 0 0;max-width:none}.slidein.top .bx{border-radius:0 0 var(--pl-radius,12px) var(--pl-radius,12px)}}\
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
    root.append(el);
  }
}
