// The runtime: loads the campaign set once, evaluates it on every page view, event and property
// change, arms the triggers of eligible campaigns, and when one fires shows the winner of its
// slot through the UI chunk, which reports through the collection chunk's client (outbox,
// analytics, UiHost). Both chunks load only once a campaign is eligible; a page view with
// sign-ups left unsent loads the collection chunk alone to resend them. Goals and control-group
// counts go from here at once. Triggers and the chunk loaders come in as arguments, so the whole
// flow is testable without a page.
import { nanoid } from 'nanoid';
import type { Campaign, CampaignSet } from '../../shared/campaign';
import type { AnalyticsEvent } from '../../shared/events';
import { OUTBOX_KEY, type Collect, type CollectKit, type StartCollect } from '../collect/contract';
import { sendNow } from '../collect/send-now';
import type { PopletUi, Shown } from '../render/contract';
import { compile, evaluate, slotOf, type Candidate, type Compiled } from '../targeting';
import type { Armed, PageView } from '../triggers';
import type { DebugLine, Engine, EngineDeps } from './types';
import { guarded } from '../guard';
import { stringify } from '../json';
import { safe as stored } from '../guard';

/** armTriggers with its page environment bound; `page`: this page view's record, the same for each of its arms. */
export type Arm = (campaigns: Campaign[], fire: (id: number) => void, page: PageView) => Armed;

// A const enum: esbuild writes each value where it is used instead of carrying the constants (bytes).
const enum K {
  /** Eligibility that changes with the clock alone (time on site, schedules) is re-checked this often. */
  TICK = 5e3,
  /** While a fired campaign must wait, it is decided again this often. */
  HOLD = 500,
}

// A string one for the same reason: it is compared and sent as the group's name.
const enum G {
  CONTROL = 'control',
}

/**
 * `waitFor(slot)`: why a campaign about to show in that slot must wait now, or nothing (see
 * index.ts): a modal the page shows, or an embed's element not drawn yet.
 */
export function makeEngine(deps: EngineDeps, arm: Arm, loadUi: () => Promise<PopletUi>, loadCollect: () => Promise<StartCollect>, waitFor: (slot: string) => string | false | undefined): Engine {
  const log = deps.log;
  let compiled: Compiled | undefined;
  let country: string | null = null;
  let last: DebugLine[] = [];
  let armed: Armed | undefined;
  let armedKey: string | undefined;
  let fired: number[] = [];
  let collect: Collect | undefined;
  /** Unset until the first page view: with `autoPageview: false`, nothing is decided before the site records one. */
  let page: PageView | undefined;
  /**
   * On screen (or its chunk loading): slot and handle, by campaign id. `c`: a control-group count,
   * which holds its slot, with nothing drawn, until the page view ends.
   */
  const shown = new Map<number, { s: string; ui?: Shown; c?: 1 }>();
  /**
   * Displayed or counted on this page view: at most once per page. Everything in `shown` is here
   * too (a popup carried over from the previous page view included, see remove).
   */
  const done = new Set<number>();
  /**
   * Fired while they had to wait. One timer fires them all again together, so they are ranked in
   * one batch once a modal closes (one timer each let the first to tick take the slot).
   */
  const held = new Set<number>();
  let hold: ReturnType<typeof setTimeout> | undefined;
  /** What happened after the evaluation, for debug(). */
  let notes: Record<number, Partial<DebugLine>> = {};
  const note = (id: number, reason?: string, status: DebugLine['status'] = 'skipped') => (notes[id] = { status, reason });
  /** The decision's lines with what happened since (debug(), and the debug log). */
  const lines = () => last.map((l) => ({ ...l, ...notes[l.id] }));
  const waiting = ({ campaign: { id } }: Candidate) => !done.has(id);
  /**
   * Not behind an age gate, a consent dialog, a fullscreen video or another popup (this install's
   * or another's), dimmed and out of reach; an embed not before its element is drawn (a
   * single-page app may draw the route after reporting its page view): held, fired again until
   * it need not wait, and so decided again then. The page view ends the wait. Asked when the
   * trigger fires, and again once the chunks have arrived, since a modal may open, or the element
   * go, while they load. True when held.
   */
  const holdBack = (id: number, s: string) => {
    const why = waitFor(s);
    if (!why) return;
    note(id, why, 'eligible');
    held.add(id);
    hold ||= setTimeout(() => {
      hold = undefined;
      held.forEach(fire);
      held.clear();
    }, K.HOLD);
    return 1;
  };

  // The visitor's group from now on, before a chunk loads or a hidden tab paints, so another tab
  // firing the campaign meanwhile gets the same one; and a first display claimed (its time, with
  // no display yet), so that a tab opened with this one does not show it too meanwhile
  // (frequencyBlock).
  const claim = (id: number, group?: string) => deps.history.update(id, (h) => ((h.g = group), h.d || (h.l = Math.floor(Date.now() / 1e3))));

  const kit: CollectKit = {
    deps,
    ctx: () => ({ ...deps.context(), country }),
    record: (c, group) =>
      deps.history.update(c.id, (h) => {
        const x = deps.context();
        h.d++;
        h.l = Math.floor(x.now / 1000);
        h.p = x.totalPageviews;
        // The group shown: a campaign that stopped testing drops the old one.
        h.g = group;
      }),
    id: nanoid,
    serialize: stringify,
  };

  // Entry points run from the page, timers and promises.
  const safe = guarded(log, 'engine error');

  /** One collection client per core, started when first needed (loadCollect tries a failed load again next time). */
  const collector = () => loadCollect().then((start) => collect || (collect = start(kit)));
  let retryIn = 15e3;
  let again: ReturnType<typeof setTimeout>;
  /**
   * Sends the sign-ups waiting in the outbox. The chunk comes from the server they wait for: when
   * it cannot load either, try again in 30 s, 1 min … every 5 min, as the outbox itself would.
   */
  const resend = (): unknown =>
    collector().then(
      (c) => c.flush(),
      (e) => {
        log('chunk', e);
        clearTimeout(again);
        again = setTimeout(safe(resend), (retryIn = Math.min(retryIn * 2, 3e5)));
      },
    );
  const send = (events: AnalyticsEvent[]) => events.length && sendNow(deps.endpoint, { site: deps.site, visitor: deps.visitorId(), events });

  const decide = () => evaluate(compiled!, kit.ctx(), Math.random);

  /**
   * Everything shown, or only what belongs to the page that held it: embeds and control-group
   * slots. A popup or bar that stays is on screen on the new page view too, so it is done there:
   * closed, it must not show again at once.
   */
  const remove = (page?: boolean) =>
    shown.forEach((e, id) => {
      if (!page || e.c || e.s.startsWith('embed')) {
        shown.delete(id);
        // Not painted yet: its claim goes too (see display).
        e.ui ? e.ui.destroy() : e.c || deps.history.update(id, (h) => h.d || (h.l = 0));
      } else done.add(id);
    });

  /** The last evaluation's lines as compared by run (see there). */
  let outcome: string | undefined;

  /** `tick`: the timer's re-check, logged only when its outcome changed. */
  const run = (pageview?: boolean, tick?: boolean) => {
    if (!compiled || !page) return;
    const x = deps.context();
    // The opt-out may come from elsewhere (another tab, "don't show again"): honour it at once.
    if (x.noshow) remove();
    const d = decide();
    last = d.debug;
    const wait = d.eligible.filter(waiting);
    const key = wait.map((c) => c.campaign.id).join();
    if (pageview || key != armedKey) {
      if (armed) armed.dispose();
      armedKey = key;
      armed = arm(
        wait.map((c) => c.campaign),
        fire,
        page,
      );
      armed.pageview(x.session.pageviews, x.totalPageviews);
    }
    // A campaign whose trigger cannot fire here is skipped, and why (kept for the page view, as
    // its trigger stays dead), and needs no chunk. Own keys only, as in goal().
    const off = armed!.off;
    for (const id of Object.keys(off)) note(+id, off[+id]);
    // Debug only: with debug off, neither the lines nor their comparison are built (debug()
    // builds its own). The timer's re-check is logged only when it changed something: compared
    // with the clock's numbers masked (the value of a "time on_site is 35, …" reason, the site
    // time that ends a schedule's), which move on every tick while nothing else does. Any other
    // number is compared: a count or an A/B group that changes is a change.
    if (log.on) {
      const l = lines();
      const o = JSON.stringify(l).replace(/(time \w+ is )-?\d+|site time [^"]+/g, '$1');
      if (!tick || o != outcome) log('evaluation', l);
      outcome = o;
    }
    // Load the chunks now so nothing waits for them when the trigger fires.
    if (wait.some((c) => c.group != G.CONTROL && !off[c.campaign.id])) for (const load of [loadUi, loadCollect]) load().catch((e: unknown) => log('chunk', e));
  };

  // Triggers firing together (landing, several at once) are decided together: best rank wins.
  const fire = (id: number) => {
    if (!fired.length) queueMicrotask(safe(showFired));
    fired.push(id);
  };

  function showFired() {
    const ids = fired;
    fired = [];
    // Decided on the records as they are now: another tab may have shown one of these campaigns
    // (frequency), stored its A/B group or set the opt-out since this page read them.
    deps.reload();
    const d = decide();
    // The newest reasons for debug(); why one was held (the only note that leaves it eligible) is
    // told by this decision again.
    last = d.debug;
    for (const id of ids) if (notes[id] && notes[id].status == 'eligible') delete notes[id];
    // Best rank first (the decision's order): the first to reach a free slot takes it.
    const taken = new Set<string>();
    shown.forEach((e) => taken.add(e.s));
    const at = page;
    for (const c of d.eligible) {
      const { id, name, trigger } = c.campaign;
      const s = slotOf(c.campaign.layout);
      if (!ids.includes(id) || !waiting(c)) continue;
      if (taken.has(s)) {
        note(id, 'slot taken: ' + s);
        // A landing, scroll, exit… moment has passed; a click or an event may come again.
        if (!/^(click|event)$/.test(trigger.type)) done.add(id);
        continue;
      }
      // The control group waits and asks the listeners as the campaign it stands for would:
      // counted where the treatment is shown, never where it would have been held or vetoed.
      if (holdBack(id, s)) {
        // Waits (for the modal, or the embed's element): its slot stays taken in this batch.
      } else if (!deps.emit('before-popup-display', { popup: { id, name }, variant: c.group }) || deps.context().noshow || page != at) {
        // A listener that recorded a page view (a router moving on) ends the batch: it was decided
        // for the page left, and the new page has decided its own.
        if (page != at) return;
        // Vetoed: the slot stays free for the next campaign of this batch. A listener that called
        // wisepops('noshow') vetoed too: this campaign and the rest of the batch (decided before).
        note(id, 'vetoed by a listener');
        continue;
      } else if (c.group == G.CONTROL) {
        // Counted as a display, nothing drawn: no chunk needed.
        done.add(id);
        // Its slot stays taken, as the popup it stands for would: the control group must not see
        // what a later trigger would have been refused in the treatment. At once, hidden tab too.
        const e = { s, c: 1 as const };
        shown.set(id, e);
        // The group too, as a popup's: another tab firing it before this one shows draws no other.
        claim(id, G.CONTROL);
        // The count goes once the tab shows: the popup counts once painted, and a hidden tab
        // paints nothing (a product opened in a background tab, maybe never looked at). Not once
        // its slot is gone (the page view ended, see remove; the opt-out).
        const count: () => unknown = safe((): unknown =>
          shown.get(id) == e &&
          (document.hidden
            ? (note(id, 'waiting: tab hidden', 'eligible'), setTimeout(count, K.HOLD))
            : (kit.record(c.campaign, G.CONTROL), note(id, 'control group'), send([{ k: 'display', c: id, g: G.CONTROL, t: Date.now() }]))),
        );
        count();
      } else void display(c, s);
      taken.add(s);
    }
  }

  /** `s`: its slot. */
  async function display({ campaign, group, content }: Candidate, s: string) {
    const id = campaign.id;
    const entry: { s: string; ui?: Shown } = { s };
    // Not shown after all: the claim of a first display goes too, or it would hold this tab back.
    const undo = () => (shown.delete(id), done.delete(id), deps.history.update(id, (h) => h.d || (h.l = 0)));
    shown.set(id, entry);
    done.add(id);
    // The display itself counts once painted.
    claim(id, group);
    try {
      const [u, c] = await Promise.all([loadUi(), collector()]);
      // Removed meanwhile ("don't show again", an SPA page change): do not draw it.
      if (shown.get(id) != entry) return;
      // A modal opened while the chunks loaded (a consent dialog, another install's popup), or the
      // embed's element went: not displayed after all, held as if so when the trigger fired.
      if (holdBack(id, s)) return undo();
      // Closed: the slot is free again; re-arm, so a campaign that lost it may fire on its next click or event.
      const closed = safe(() => {
        shown.delete(id);
        armedKey = undefined;
        run();
      });
      entry.ui = u.show({ campaign, content, host: c.host(group, closed) });
      note(id, group && 'group ' + group, 'shown');
    } catch (e) {
      undo();
      log(campaign.name + ': not shown', e);
    }
  }

  const loaded = fetch(`${deps.endpoint}/sites/${encodeURIComponent(deps.site)}/campaigns.json`, { credentials: 'omit' })
    .then((r) => (r.ok ? (r.json() as Promise<CampaignSet>) : Promise.reject(r.status)))
    .then((set) => {
      country = set.country || null;
      compiled = compile(set.campaigns, { timezone: set.timezone, log });
      run(true);
      // Nothing else happens on a page when the visitor just reads it: a "time on site" condition
      // or a schedule that starts must still be noticed. run() re-arms only if the set changed.
      // Decided on the compiled (valid) campaigns: the raw list may hold anything, null included.
      if (compiled.ranked.some(([c]) => c.schedule || /"time"/.test(stringify(c.targeting)))) setInterval(safe(() => run(false, true)), K.TICK);
    })
    .catch((e) => log('campaigns not loaded', e));

  return {
    pageview: safe(() => {
      // Popups and bars stay until the visitor closes them (they may be halfway through a form).
      done.clear();
      remove(true);
      // The moment a held campaign fired for belonged to the page left. (The hold timer may run on:
      // it fires what is held by then.)
      held.clear();
      notes = {};
      page = { since: Date.now() };
      run(true);
      // Once this page view has been decided on the campaign set (or the set failed to load):
      // sticky and once only (see the bus), so later page views pass.
      loaded.then(() => deps.emit('ready', {}));
      // Sign-ups left unsent (server down, tab closed): resend them now, without the UI chunk.
      // Where storage is blocked there is none to read, and nothing to log.
      if (stored(() => localStorage.getItem(OUTBOX_KEY))) resend();
    }),
    // After the campaign set arrived, so that an event sent early still reaches its trigger.
    event: (name) =>
      loaded.then(
        safe(() => {
          run();
          if (armed) armed.event(name);
        }),
      ),
    refresh: safe(run),
    debug: lines,
    // Credited to every campaign shown (or counted for the control group) in the last 30 days.
    // Only the command layer calls it, inside its own guard.
    goal: (n, r) => {
      const { history: h, now: t } = deps.context();
      const events: AnalyticsEvent[] = [];
      // Own keys: a key the page put on Object.prototype is no campaign.
      // Shown (a claim alone, d 0, was never painted) in the last 30 days.
      for (const c of Object.keys(h)) if (h[+c].d && h[+c].l * 1e3 > t - 2592e6) events.push({ k: 'goal', c: +c, n, r, t, g: h[+c].g });
      log('goal', events);
      send(events);
    },
  };
}
