// The command layer: `wisepops(command, ...args)` dispatch, options, consent, properties,
// visits and the visitor context, and the EngineDeps the engine runs on. Every call is guarded:
// a bad command logs one debug line, nothing is ever thrown into the page.
import { nanoid } from 'nanoid';
import type { Engine, EngineDeps } from '../engine/types';
import type { VisitorContext } from '../context/types';
import type { ListenEvent } from '../listen';
import { buildContext } from '../context/build';
import { createLog } from '../log';
import { createStore, ACTIVITY, NOSHOW, VISITOR, str, type Store } from '../storage/store';
import { readState, writeState, type State } from '../storage/state';
import { isObject, mergeProps, readProps, writeProps, type Props } from '../storage/props';
import { newSession, readSession, readVisits, recordPageview, type Session, type Visits } from '../storage/visits';
import { createBus, EVENTS, type Listener } from './bus';
import { DEFAULTS, EARLY, mergeOptions, storeConfig, type Options } from './options';
import { cleanProps } from './properties';
import { queued } from './queue';

export type Command = (command?: unknown, ...args: unknown[]) => unknown;

export interface PopletEnv {
  win: Window;
  site: string;
  /** defaults, overridden by the `endpoint` and `uiUrl` options */
  endpoint: string;
  uiUrl: string;
  /** the snippet's `q` */
  queue: unknown;
  createEngine(deps: EngineDeps): Engine;
  /** `?poplet_debug=1` */
  debug: boolean;
}

const INERT: Engine = { pageview() {}, event() {}, refresh() {}, debug: () => [], goal() {} };
const nowS = () => Math.floor(Date.now() / 1000);

/** `run` is the real `wisepops()`; `start()` replays the queue and records the page view. */
export function createPoplet(env: PopletEnv): { run: Command; start(): void } {
  const { win } = env;
  const log = createLog(env.debug);
  const bus = createBus(log);
  const [config, rest] = queued(env.queue);
  let opts: Options = DEFAULTS;
  let consent: boolean | undefined;
  let store: Store | undefined;
  let engine = INERT;
  let counted = false;
  let visitor: string | undefined;
  let state: State, props: Props, temp: Props = {}, session: Session, visits: Visits, noshow: boolean, ctx: VisitorContext;

  const bad = (message: string) => void log(message);
  const granted = () => (consent == null ? opts.defaultConsent == 'granted' : consent);
  const rebuild = () => {
    ctx = buildContext({ now: Date.now(), href: win.location.href, session, visits, state, props: mergeProps(props, temp), noshow }, win);
    log('context', ctx);
  };
  const refresh = () => counted && engine.refresh();
  const configure = (s: Store) => {
    s.configure(storeConfig(opts, granted()));
    visitor = undefined;
    if (!granted()) return;
    visitor = s.read(VISITOR, (p) => str(p[0])) || nanoid();
    s.write(VISITOR, [visitor]);
  };
  const readAll = (s: Store) => {
    state = readState(s);
    props = readProps(s);
    noshow = !!s.read(NOSHOW, () => 1);
    visits = readVisits(s);
  };
  const setNoshow = (s: Store, on: boolean) => {
    s.write(NOSHOW, on ? [] : undefined);
    noshow = ctx.noshow = on;
    refresh();
  };
  const pageview = (s: Store) => {
    readAll(s);
    ({ session, visits } = recordPageview(s, nowS(), win.location.href, win.document.referrer));
    // Temporary properties last one page view; those queued before the first one belong to it.
    if (counted) temp = {};
    counted = true;
    rebuild();
    engine.pageview();
    // Sticky and once only (see the bus): the first evaluation has run.
    bus.emit('ready', {});
  };

  const commands: Record<string, (...a: unknown[]) => unknown> = {
    options(o) {
      opts = mergeOptions(opts, o, log);
      log.on = env.debug || opts.debug;
      if (!store) return;
      if (isObject(o) && EARLY.some((k) => k in o)) log(`options: ${EARLY} only apply before load`);
      configure(store);
    },
    consent(v) {
      if (v !== 'granted' && v !== 'denied') return bad("consent: 'granted' or 'denied'");
      consent = v === 'granted';
      if (store) configure(store), refresh();
    },
    properties(p, o) {
      if (!isObject(p) || (o !== undefined && !isObject(o))) return bad('properties: needs an object');
      const clean = cleanProps(p, log);
      if (o && o.temporary === true) temp = mergeProps(temp, clean);
      else {
        const next = mergeProps(readProps(store!), clean);
        if (writeProps(store!, next)) props = next;
        else return bad('properties: not saved (over 4,000 bytes)');
      }
      rebuild();
      refresh();
    },
    event(name) {
      if (typeof name !== 'string' || !name) return bad('event: needs a name');
      engine.event(name);
    },
    pageview: () => pageview(store!),
    goal(name, o) {
      const revenue = isObject(o) ? o.revenue : undefined;
      if (typeof name !== 'string' || !name || (o !== undefined && !isObject(o)) || (revenue !== undefined && !(typeof revenue === 'number' && isFinite(revenue)))) {
        return bad('goal: needs a name, then {revenue: number}');
      }
      engine.goal(name, revenue as number | undefined);
    },
    listen(name, a, b) {
      const [id, cb] = typeof a === 'function' ? [undefined, a] : [a, b];
      if (!EVENTS.includes(name as ListenEvent) || typeof cb !== 'function' || (id !== undefined && typeof id !== 'number')) {
        return bad('listen: unknown event or no callback');
      }
      bus.on(name as ListenEvent, cb as Listener, id as number | undefined);
    },
    noshow(v) {
      if (v !== undefined && typeof v !== 'boolean') return bad('noshow: nothing or false');
      setNoshow(store!, v !== false);
    },
    debug: () => ({ campaigns: engine.debug(), context: deps.context() }),
  };

  const run: Command = (command, ...args) => {
    try {
      if (typeof command === 'string' && Object.prototype.hasOwnProperty.call(commands, command)) return commands[command](...args);
      log(`unknown command: ${typeof command === 'string' ? command : typeof command}`);
    } catch (e) {
      log(`${typeof command === 'string' ? command : 'command'} failed`, e);
    }
  };

  const deps: EngineDeps = {
    site: env.site,
    endpoint: env.endpoint,
    uiUrl: env.uiUrl,
    context: () => ((ctx.now = Date.now()), ctx),
    history: {
      update(id, change) {
        // Re-read first: another tab may have written since this page loaded.
        state = readState(store!);
        change(state.history[id] || (state.history[id] = { d: 0, c: 0, v: 0, k: 0, l: 0, p: 0 }));
        writeState(store!, state);
        ctx.history = state.history;
      },
      markSignedUp() {
        state = readState(store!);
        state.signedUp = ctx.signedUp = true;
        writeState(store!, state);
      },
    },
    noshow: () => setNoshow(store!, true),
    activity: {
      get: () => store!.read(ACTIVITY, (p) => str(p[0])),
      set: (v) => void (store!.write(ACTIVITY, [v]) || log('activity record too big, not saved')),
    },
    visitorId: () => visitor,
    emit: (name, detail) => bus.emit(name, detail),
    log,
  };

  for (const c of config) run(...c);
  if (win.self !== win.top && !opts.iframes) {
    log('in an iframe: off (option iframes)');
    return { run: () => undefined, start() {} };
  }
  const s = (store = createStore(storeConfig(opts, granted()), log));
  configure(s);
  readAll(s);
  session = readSession(s, nowS()) || newSession(nowS(), win.location.href, win.document.referrer);
  rebuild();
  Object.assign(deps, { endpoint: opts.endpoint || env.endpoint, uiUrl: opts.uiUrl || env.uiUrl, nonce: opts.nonce });
  try {
    engine = env.createEngine(deps);
  } catch (e) {
    log('engine failed to start', e);
  }
  return {
    run,
    start() {
      for (const c of rest) run(...c);
      if (opts.autoPageview) run('pageview');
    },
  };
}
