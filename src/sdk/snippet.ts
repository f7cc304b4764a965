// The install snippet a site owner pastes in <head>. Same shape as the Wisepops one: a stub that
// queues calls until the deferred script arrives. The global's name travels to the script as a
// data attribute, so two differently named installs never share a queue. A function already
// there (the stub of a snippet pasted twice, or the script itself) is kept; anything else is
// replaced: browsers expose an element by its id or name as a global (<div id="wisepops">,
// <form name="wisepops">), which `window[w] || …` kept, so the page's first call threw.
const TEMPLATE =
  "(function(w,i,s,e){s=window[w];window[w]=typeof s=='function'?s:function(){(window[w].q=window[w].q||[]).push(arguments)};" +
  "window[w].l=Date.now();s=document.createElement('script');e=document.getElementsByTagName('script')[0];" +
  "s.defer=1;s.src=i;s.setAttribute('data-global',w);e?e.parentNode.insertBefore(s,e):document.head.appendChild(s)})";

/** The snippet for a script URL such as `https://HOST/poplet.js?site=ID`. */
export function snippetFor(scriptUrl: string, globalName = 'wisepops'): string {
  return `${TEMPLATE}(${JSON.stringify(globalName)},${JSON.stringify(scriptUrl)})`.replace(/</g, '\\u003c');
}
