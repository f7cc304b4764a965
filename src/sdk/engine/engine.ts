// The runtime: loads the campaign set once, evaluates it on every page view, event and property
// change, arms the triggers of eligible campaigns, and when one fires shows the winner of its
// slot through the UI chunk. Collaborators that touch the network, timers or the DOM come in
// through `Parts`, so the whole flow is testable without them.
import type { CampaignSet, Campaign } from '../../shared/campaign';
import type { Outbox } from '../collect/outbox';
import type { Track } from '../collect/tracker';
import type { VisitorContext } from '../context/types';
import type { Shown } from '../render/contract';
import { compile, evaluate, pickWinners, slotOf, type Candidate, type Compiled } from '../targeting';
import type { Armed } from '../triggers';
import { recordDisplay, uiHost, type HostKit } from './host';
import type { LoadUi } from './ui';
import type { DebugLine, Engine, EngineDeps } from './types';

const NONE: Armed = { event() {}, pageview() {}, dispose() {} };

export interface Parts {
  /** armTriggers with its page environment bound. */
  arm(campaigns: Campaign[], fire: (id: number) => void): Armed;
  fetch(url: string, init: RequestInit): Promise<Response>;
  loadUi: LoadUi;
  outbox: Outbox;
  track: Track;
  random(): number;
  now(): number;
}

const CONTROL = 'control';

export function makeEngine(deps: EngineDeps, parts: Parts): Engine {
  const { log } = deps;
  let compiled: Compiled | undefined;
  let country: string | null = null;
  let last: DebugLine[] = [];
  let armed = NONE;
  let armedKey: string | undefined;
  let fired: number[] = [];
  /** `wisepops('event')` calls made before the campaign set arrived. */
  const early: string[] = [];
  /** On screen (or its chunk loading): slot and handle, by campaign id. */
  const shown = new Map<number, { slot: string; ui?: Shown }>();
  /** Displayed or counted on this page view: at most once per page. */
  const done = new Set<number>();
  /** What happened after the evaluation, for debug(). */
  const notes = new Map<number, Pick<DebugLine, 'status' | 'reason'>>();
  const ctx = (): VisitorContext => ({ ...deps.context(), country });
  const kit: HostKit = { deps, ctx, track: parts.track, outbox: parts.outbox, now: parts.now };

  // Entry points run from the page, timers and promises: never throw into the host page.
  const safe =
    <A extends unknown[]>(f: (...a: A) => void) =>
    (...a: A) => {
      try {
        f(...a);
      } catch (e) {
        log('engine error', e);
      }
    };

  const decide = () => {
    const d = evaluate(compiled!, ctx(), parts.random);
    for (const c of d.eligible) if (c.assigned) deps.history.update(c.campaign.id, (h) => void (h.g = c.group));
    return d;
  };

  function run(pageview?: boolean) {
    if (!compiled) return;
    // The opt-out may come from elsewhere (another tab, the command layer): honour it at once.
    if (deps.context().noshow) remove(() => true);
    const d = decide();
    last = d.debug;
    log('evaluation', d.debug);
    const waiting = d.eligible.filter((c) => !done.has(c.campaign.id) && !shown.has(c.campaign.id));
    const key = waiting.map((c) => c.campaign.id).join();
    if (pageview || key != armedKey) {
      armed.dispose();
      armedKey = key;
      armed = waiting.length ? parts.arm(waiting.map((c) => c.campaign), fire) : NONE;
      const x = ctx();
      armed.pageview(x.session.pageviews, x.totalPageviews);
    }
    // Load the chunk now so nothing waits for it when the trigger fires.
    if (waiting.some((c) => c.group != CONTROL)) parts.loadUi().catch((e) => log('UI chunk: ' + e));
  }

  // Triggers firing together (landing, several at once) are decided together: best rank wins.
  const fire = (id: number) => {
    if (!fired.length) Promise.resolve().then(safe(showFired));
    fired.push(id);
  };

  function showFired() {
    const ids = fired;
    fired = [];
    const ready = decide().eligible.filter((c) => ids.includes(c.campaign.id) && !done.has(c.campaign.id) && !shown.has(c.campaign.id));
    const winners = pickWinners(ready, [...shown.values()].map((s) => s.slot));
    for (const c of ready)
      if (!winners.includes(c)) {
        notes.set(c.campaign.id, { status: 'skipped', reason: `its slot (${slotOf(c.campaign.layout)}) is taken` });
        // A landing, scroll, exit… moment has passed; a click or an event may come again.
        if (!/^(click|event)$/.test(c.campaign.trigger.type)) done.add(c.campaign.id);
      }
    for (const c of winners) c.group == CONTROL ? count(c.campaign) : void display(c);
  }

  function count(c: Campaign) {
    done.add(c.id);
    recordDisplay(kit, c, CONTROL);
    notes.set(c.id, { status: 'skipped', reason: 'control group: counted, not shown' });
  }

  async function display({ campaign, group, content }: Candidate) {
    const id = campaign.id;
    if (!deps.emit('before-popup-display', { popup: { id, name: campaign.name }, variant: group })) {
      notes.set(id, { status: 'skipped', reason: 'vetoed by a before-popup-display listener' });
      return;
    }
    const entry: { slot: string; ui?: Shown } = { slot: slotOf(campaign.layout) };
    shown.set(id, entry);
    done.add(id);
    try {
      const ui = await parts.loadUi();
      // Removed meanwhile ("don't show again", an SPA page change): do not draw it.
      if (shown.get(id) != entry) return;
      entry.ui = ui.show({ campaign, content, host: uiHost(kit, group, safe(() => freed(id)), safe(noshow)) });
      notes.set(id, { status: 'shown' });
    } catch (e) {
      shown.delete(id);
      done.delete(id);
      log(`${campaign.name}: not shown`, e);
    }
  }

  // A slot is free again: re-arm, so a campaign that lost it may fire on its next click or event.
  function freed(id: number) {
    shown.delete(id);
    armedKey = undefined;
    run();
  }

  const remove = (which: (slot: string) => boolean) => {
    for (const [id, e] of shown)
      if (which(e.slot)) {
        shown.delete(id);
        e.ui?.destroy();
      }
  };

  function noshow() {
    deps.noshow();
    remove(() => true);
    armed.dispose();
    armed = NONE;
    armedKey = undefined;
  }

  const engine: Engine = {
    pageview: safe(() => {
      parts.outbox.flush();
      // Embeds belong to the page that held them; popups and bars stay until the visitor closes
      // them (they may be halfway through a form).
      remove((slot) => slot.startsWith('embed'));
      done.clear();
      notes.clear();
      run(true);
    }),
    event: safe((name: string) => {
      if (!compiled) return void early.push(name);
      run();
      armed.event(name);
    }),
    refresh: safe(() => run()),
    debug: () => last.map((l) => ({ ...l, ...notes.get(l.id) })),
    // Goals have no analytics event kind yet (see README): debug-logged only.
    goal: safe((name: string, revenue?: number) => log('goal', { name, revenue })),
  };

  parts
    .fetch(`${deps.endpoint}/sites/${encodeURIComponent(deps.site)}/campaigns.json`, { credentials: 'omit' })
    .then((r) => (r.ok ? (r.json() as Promise<CampaignSet>) : Promise.reject(Error('HTTP ' + r.status))))
    .then(
      safe((set: CampaignSet) => {
        country = set.country || null;
        compiled = compile(set.campaigns, { timezone: set.timezone, log });
        run(true);
        early.splice(0).forEach(engine.event);
      }),
    )
    .catch((e) => log('campaigns not loaded', e));

  return engine;
}
