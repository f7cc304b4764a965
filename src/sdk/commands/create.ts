// The command layer: `wisepops(command, ...args)` dispatch, options, consent, properties,
// visits and the visitor context, and the EngineDeps the engine runs on. Every call is guarded:
// a bad command logs one debug line, nothing is ever thrown into the page.
import { nanoid } from 'nanoid';
import type { Engine, EngineDeps } from '../engine/types';
import type { VisitorContext } from '../context/types';
import { buildContext } from '../context/build';
import { createLog } from '../log';
import { isRevenue, isWellFormed, MAX_GOAL_NAME, VISITOR_ID } from '../../shared/events';
import { bytes, encode, fits, isObject, Rec } from '../storage/codec';
import { createStore, R } from '../storage/store';
import { consentOf, readState, writeState } from '../storage/state';
import { mergeProps, readProps, type Props } from '../storage/props';
import { currentSession, readVisits, recordPageview, type Session } from '../storage/visits';
import { createBus, EVENTS, type Listener } from './bus';
import { DEFAULTS, setOptions, valid } from './options';
import { CHUNKS } from '../version';

export type Command = (command?: unknown, ...args: unknown[]) => unknown;
/** Runs the snippet's queue and records the first page view. */
type Start = () => void;

const noop = () => {};
// Bad arguments throw this; `run` logs it with the arguments.
const BAD = 0;
const need: (ok: unknown) => asserts ok = (ok) => {
  if (!ok) throw BAD;
};

/**
 * `src`: the script's own URL (site, default endpoint and UI chunk URL); `queue`: the snippet's
 * `q`, the `arguments` of every call made before the script ran; `name`: the global's, which
 * names the records (default `wisepops`).
 */
export function createPoplet(win: Window, src: URL, queue: unknown, createEngine: (deps: EngineDeps) => Engine, name?: string): [Command, Start] {
  const loc = win.location;
  const debugParam = /[?&]poplet_debug=1\b/.test(loc.search);
  const log = createLog(debugParam);
  const bus = createBus(log);
  const store = createStore(log, name);
  const opts = { ...DEFAULTS };
  const calls = Array.isArray(queue) ? queue.map((a) => Array.from(a as ArrayLike<unknown>)) : [];
  // Configuration calls run before anything is read or written, wherever they sit in the queue.
  // Compared, not converted: converting a Symbol or a page's object can throw.
  const isConfig = (c: unknown[]) => c[0] === 'options' || c[0] === 'consent';
  // Given by `consent` on this page, or remembered from an earlier one.
  let consent: boolean | undefined;
  // Unset until true.
  let started: boolean | undefined;
  // The page views this page recorded. Where storage keeps nothing, they are the total.
  let counted = 0;
  // The URL of the page view the script recorded by itself, until the first `pageview` call.
  let landed: string | false | undefined;
  let engine: Engine;
  let visitor: string | undefined;
  let session: Session;
  let ctx: VisitorContext;
  let temp: Props = {};
  // The persistent properties as this page last wrote them: where storage keeps nothing, they
  // still last as long as the page.
  let saved: Props = {};

  // The session as of now on this page: read, or recorded with a page view.
  const page = (f: typeof currentSession) => (session = f(store, Math.floor(Date.now() / 1000), loc.href, win.document.referrer));
  const granted = () => (consent == null ? opts.defaultConsent == 'granted' : consent);
  const context = () => ((ctx.now = Date.now()), ctx);
  const refresh = () => counted && engine.refresh();
  const props = () => readProps(store, saved);
  // Read from the records each time: another tab may have written since this page loaded. With no
  // page view stored, storage keeps nothing (cookies off): then what this page learnt stays, with
  // the records over it, as reload() merges them, and its own page views are the total, which
  // every page-view rule reads (an embed's default repeat, "every": "pages", pageviews triggers).
  const rebuild = () => {
    const s = readState(store);
    const v = readVisits(store);
    const mem = ctx && !v[1];
    if (mem) reload(s), (v[1] = counted);
    ctx = buildContext(loc.href, session, v, mem ? ctx : s, mergeProps(props(), temp, log), mem ? ctx.noshow : !!store.read(R.NOSHOW, []), win);
    // Not before the first page view is recorded: that context has no visit and no page view yet,
    // and the page view logs its own a moment later.
    if (counted) log('context', ctx);
  };
  const configure = () => {
    store.configure(opts, granted());
    // A stored id the server would refuse (a hand-edited cookie) is replaced, not sent for ever.
    // No record reads as "undefined", 9 characters: refused too.
    visitor = granted() ? ((v) => (VISITOR_ID.test(v!) ? v : nanoid()))(store.one(R.VISITOR, '')) : undefined;
    if (visitor) store.write(R.VISITOR, [visitor]);
  };
  const setNoshow = (on: boolean) => {
    store.write(R.NOSHOW, on ? [] : undefined);
    ctx.noshow = on;
    refresh();
  };
  // Only what other tabs write that decides a display; page and visit counts stay this page's.
  // What this page learnt stays too, where storage keeps nothing (cookies off, blocked storage).
  // `s`: the state record, when the caller has read it already.
  const reload = (s = readState(store)) => {
    Object.assign(ctx.history, s.history);
    ctx.signedUp = ctx.signedUp || s.signedUp;
    ctx.noshow = ctx.noshow || !!store.read(R.NOSHOW, []);
  };
  // On the merged history (stored entries over this page's own), which the context keeps: a
  // storage that keeps nothing must not make the page forget the other campaigns. The consent
  // flag is the stored one unless a `consent` call sets it (`choice`): a tab that heard nothing
  // must not undo a grant or a denial another tab recorded since it loaded, and takes it on
  // (its records' lifetimes, the analytics id) before it writes.
  const saveState = (change: () => void, choice?: boolean) => {
    const s = readState(store);
    const g = choice ?? s.granted;
    if (g != null && g != granted()) (consent = g), configure();
    reload(s);
    change();
    writeState(store, ctx, g);
  };

  // `any`: arguments come from the page untyped; each command checks its own with `need`.
  // Looked up by name: in the order that gzips smallest.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const commands: Record<string, (...a: any[]) => unknown> = {
    properties(p, o) {
      // temporary: a boolean or absent; a truthy other value must not store the properties for good.
      // A boolean instead of options (the older Wisepops script's `reset`): `true` replaces the stored ones, `false` merges.
      need(isObject(p) && (o == null || typeof o == 'boolean' || (isObject(o) && (o.temporary == null || typeof o.temporary == 'boolean'))));
      if (o && o.temporary) temp = mergeProps(temp, p, log);
      else {
        const now = props();
        const next = mergeProps(o === true ? {} : now, p, log);
        // Refused (over its size): the update is dropped for this page too. Properties an older
        // version stored bigger may still change and shrink, never grow.
        if (store.write(R.PROPS, [next], Math.max(Rec.PROPS_BYTES, bytes(encode([now])) + 1))) saved = next;
      }
      rebuild();
      refresh();
    },
    options(o) {
      need(isObject(o));
      setOptions(opts, o, log);
      log.on = debugParam || opts.debug;
      if (started) configure();
    },
    noshow(on) {
      need(on == null || typeof on == 'boolean');
      setNoshow(on !== false);
    },
    consent(v) {
      need(valid('defaultConsent', v));
      consent = v == 'granted';
      // The state record remembers the choice at once, for the next pages and the other tabs.
      if (started) configure(), saveState(noop, consent), refresh();
    },
    pageview(auto?: unknown) {
      // A router that reports its first route after the script ran (Vue's afterEach, a React
      // effect) reports the page view the script recorded already: the same one, not a second.
      // `auto`: noop, which only the start below can pass, for the script's own page view. Its URL
      // is claimable at once: a `ready` listener may start the router, which reports it now.
      const first = landed;
      landed = auto == noop && loc.href;
      if (first == loc.href) return;
      page(recordPageview);
      // Temporary properties last one page view; those queued before the first one belong to it.
      if (counted++) temp = {};
      rebuild();
      engine.pageview();
    },
    listen(name, a, b) {
      const [id, cb] = typeof a == 'function' ? [undefined, a] : [a, b];
      // A campaign id as a number or its digits ('42', as read from a data attribute).
      need(EVENTS.test(name) && typeof cb == 'function' && (id == null || /^[1-9]\d*$/.test(id)));
      bus.on(name, cb as Listener, id && +id);
    },
    debug: () => ({ campaigns: engine.debug(), context: context() }),
    event(name) {
      need(typeof name == 'string' && name);
      engine.event(name);
    },
    goal(name, o) {
      // The revenue in options, or the number itself (`wisepops('goal', 'purchase', 15)`, as
      // Wisepops' integrations send it). A lone surrogate (a name cut inside an emoji) or a revenue
      // over the server's limit would make the server refuse the batch.
      const r = isObject(o) ? o.revenue : o;
      need(typeof name == 'string' && name && name.length <= MAX_GOAL_NAME && isWellFormed(name) && (r == null || isRevenue(r)));
      engine.goal(name, r);
    },
  };

  const run: Command = (command, ...a) => {
    // A non-string goes by its type name (never a command's): converting it can throw.
    const c = typeof command == 'string' ? command : typeof command;
    try {
      return commands.hasOwnProperty(c) ? commands[c](...a) : log('unknown command: ' + c);
    } catch (e) {
      log(c + ' ignored', e === BAD ? a : e);
    }
  };

  for (const c of calls) if (isConfig(c)) run(...c);
  if (win.self != win.top && !opts.iframes) return log('iframe: off (option iframes)'), [noop, noop];
  started = true;
  // A choice made on an earlier page holds while no call on this page says otherwise.
  const state = store.peek(R.STATE, opts) || [];
  if (consent == null) consent = consentOf(state[0] as number);
  configure();
  page(currentSession);
  rebuild();
  // A record an older version wrote over today's size is cut now, not at the next display.
  if (consent != null || !fits(encode(state), Rec.STATE_BYTES)) saveState(noop, consent);
  const deps: EngineDeps = {
    site: src.searchParams.get('site') || '',
    endpoint: (opts.endpoint || src.origin).replace(/\/+$/, ''),
    // This build's own chunks, in a folder named by their hash: cacheable for good, on any static
    // host too, and after an upgrade this core still gets the chunks it was built with.
    uiUrl: opts.uiUrl || new URL(`chunks/${CHUNKS}/poplet.ui.js`, src).href,
    nonce: opts.nonce || undefined,
    context,
    history: {
      update: (id, change) => saveState(() => change(ctx.history[id] || (ctx.history[id] = { d: 0, c: 0, v: 0, k: 0, l: 0, p: 0 }))),
      markSignedUp: () => saveState(() => (ctx.signedUp = true)),
    },
    noshow: () => setNoshow(true),
    reload,
    activity: {
      get: () => store.one(R.ACTIVITY, ''),
      set: (v) => store.write(R.ACTIVITY, [v]),
    },
    visitorId: () => visitor,
    emit: bus.emit,
    log,
  };

  try {
    engine = createEngine(deps);
  } catch (e) {
    log('engine failed', e);
  }
  return [
    run,
    () => {
      for (const c of calls) if (!isConfig(c)) run(...c);
      // A page view queued before the script came (an SPA router's first route) is this page's.
      if (opts.autoPageview && !counted) run('pageview', noop);
      // Left, the page may come back from the back/forward cache, where it runs no script again:
      // a `wisepops('pageview')` the site then makes on `pageshow` is a new view, not the claim.
      win.addEventListener('pagehide', () => (landed = false));
    },
  ];
}
