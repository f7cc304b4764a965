// The chunk's stylesheet, adopted into each campaign's shadow root. Every value a campaign may
// style reads a --pl-* custom property (set from content.style, or inherited from the site).
const A = 'var(--pl-accent,#1f4fd1)';
const R = 'var(--pl-radius,12px)';
const TOP = 'z-index:2147483647;';

const CSS = `
:host{all:initial!important;display:contents!important}
:host([data-embed]){display:block!important}
*{box-sizing:border-box}
.r{font:16px/1.45 var(--pl-font,system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif);color:var(--pl-color,#1a1a1a);text-align:left}
.ov{position:fixed;inset:0;${TOP}display:flex;align-items:center;justify-content:center;padding:16px;background:var(--pl-overlay,rgba(0,0,0,.55));animation:pl-f .2s ease-out}
.bx{position:relative;background:var(--pl-bg,#fff);border-radius:${R};box-shadow:0 12px 40px rgba(0,0,0,.3);padding:32px 24px 16px;width:100%;max-width:var(--pl-width,440px);max-height:100%;overflow:auto;animation:pl-u .25s ease-out}
.slidein .bx,.bar .bx,.fullscreen .bx{position:fixed;${TOP}}
.slidein .bx{max-width:var(--pl-width,360px);width:calc(100% - 32px);max-height:calc(100% - 32px);margin:16px}
.top-left .bx,.top-right .bx{top:0}.bottom-left .bx,.bottom-right .bx{bottom:0}
.top-left .bx,.bottom-left .bx{left:0}.top-right .bx,.bottom-right .bx{right:0}
.bar .bx{left:0;right:0;max-width:none;border-radius:0;padding:10px 48px 10px 16px;box-shadow:0 0 12px rgba(0,0,0,.2)}
.bar.top .bx{top:0;animation-name:pl-d}.bar.bottom .bx{bottom:0}
.bar .st{display:flex;flex-wrap:wrap;align-items:center;justify-content:center;gap:8px 16px}
.bar .st>*{margin:0}.bar .b{width:auto}.bar .fd{min-width:200px}
.bar .ns{display:block;margin:4px auto 0}
.fullscreen .bx{inset:0;max-width:none;border-radius:0;display:flex;flex-direction:column;justify-content:center;align-items:center}
.fullscreen .st{width:100%;max-width:var(--pl-width,560px)}
.embed .bx{max-width:none;box-shadow:none;border:1px solid rgba(0,0,0,.15);animation:none}
.st>*{margin:0 0 14px}
h2{font-size:1.5em;line-height:1.2;font-weight:700;margin:0 0 12px;color:inherit}
p{margin:0 0 12px}
a{color:inherit;text-decoration:underline}
img{display:block;max-width:100%;height:auto;border-radius:calc(${R} / 2)}
.b,.in{font:inherit;border-radius:calc(${R} / 2);min-height:44px}
.b{display:block;width:100%;padding:10px 18px;border:2px solid ${A};background:${A};color:var(--pl-accent-text,#fff);font-weight:600;cursor:pointer;text-align:center;text-decoration:none}
.b.s{background:transparent;color:inherit;border-color:currentColor}
.b[aria-disabled]{opacity:.7;cursor:wait}
.b+.b{margin-top:-6px}
label{display:block;font-weight:600;font-size:.95em;margin-bottom:4px}
.in{display:block;width:100%;padding:8px 12px;border:1px solid #6b6b6b;background:#fff;color:#1a1a1a}
.in[aria-invalid=true]{border:2px solid #b00020}
.ck{display:flex;gap:8px;align-items:flex-start;font-weight:400}
.ck input{width:20px;height:20px;margin:2px 0 0;flex:none;accent-color:${A}}
.er{display:block;color:#b00020;background:#fff;font-size:.9em;margin-top:4px;padding:0 2px}
.fe{color:#b00020;background:#fff;padding:8px;border-radius:4px}
.cd{font-size:1.6em;font-weight:700;font-variant-numeric:tabular-nums;letter-spacing:.04em}
.x{position:absolute;top:6px;right:6px;min-width:40px;height:40px;padding:0 8px;border:0;border-radius:20px;background:transparent;color:inherit;font:inherit;font-size:15px;cursor:pointer}
.x svg{width:18px;height:18px;display:block;margin:auto;stroke:currentColor;stroke-width:2.5}
.x:hover{background:rgba(127,127,127,.18)}
.ns{background:none;border:0;padding:6px 2px;margin:6px 0 0;color:inherit;font:inherit;font-size:13px;text-decoration:underline;cursor:pointer}
.hp{position:absolute!important;left:-10000px!important;width:1px;height:1px;overflow:hidden}
:focus-visible{outline:3px solid ${A};outline-offset:2px}
.out .bx,.out .ov{animation:pl-o .18s ease-in forwards}
.out .ov .bx{animation:none}
@keyframes pl-f{from{opacity:0}}
@keyframes pl-u{from{opacity:0;transform:translateY(24px)}}
@keyframes pl-d{from{opacity:0;transform:translateY(-24px)}}
@keyframes pl-o{to{opacity:0}}
@media (max-width:600px){
.popup .ov{align-items:flex-end;padding:0}
.popup .bx{max-width:none;max-height:90%;border-radius:${R} ${R} 0 0}
.slidein .bx{width:100%;max-width:none;margin:0;border-radius:0;left:0;right:0}
.bar .st{justify-content:flex-start}
}
@media (prefers-reduced-motion:reduce){.r *{animation:none!important;transition:none!important}}
`;

let sheet: CSSStyleSheet | undefined;

/** Constructable stylesheet where supported (no CSP needed), else a <style> with the page's nonce. */
export function adoptStyles(root: ShadowRoot, nonce?: string): void {
  try {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    }
    root.adoptedStyleSheets = [sheet];
  } catch {
    const el = document.createElement('style');
    if (nonce) el.nonce = nonce;
    el.textContent = CSS;
    root.appendChild(el);
  }
}
