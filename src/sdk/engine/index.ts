// createEngine: the engine wired to the real page: the triggers on this window, the loaders of
// the UI and collection chunks, and what tells it a campaign must wait (a modal, an embed's element).
import { COLLECT_GLOBAL, type StartCollect } from '../collect/contract';
import { UI_GLOBAL, type PopletUi } from '../render/contract';
import { armTriggers } from '../triggers';
import { beside, chunkLoader } from './chunk';
import { makeEngine } from './engine';
import { safe } from '../guard';
import type { Engine, EngineDeps } from './types';

/**
 * A modal dialog or an element in fullscreen, in the document or in a Poplet campaign's shadow
 * root (which :modal does not see into). Not inside other web components' shadow roots. No
 * :modal before Chrome 105 / Safari 15.6 (it throws): nothing to wait for. (Every campaign host
 * has its shadow root; anything else by that name only ends the search here.)
 */
const modalOpen = (): boolean =>
  !!safe(() => document.querySelector(':modal') || [...document.querySelectorAll('poplet-campaign')].some((h) => h.shadowRoot!.querySelector(':modal')));

/**
 * Why a campaign about to show in `slot` must wait (see the engine's holdBack), as debug tells
 * it: a popup, bar or slide-in for a modal the page shows; an embed (slot `embed:<selector>`) for
 * its element. An invalid selector (it throws) is not waited for: the UI chunk logs the browser's
 * reason. Embeds never wait for a modal: they are part of the page, not over it.
 */
export const waitFor = (slot: string) =>
  slot[0] == 'e' ? safe(() => !document.querySelector(slot.slice(6))) && 'waiting for ' + slot.slice(6) : modalOpen() && 'waiting: a modal is open';

export const createEngine = (deps: EngineDeps): Engine =>
  makeEngine(
    deps,
    (campaigns, fire, page) =>
      armTriggers(
        campaigns,
        {
          win: window,
          doc: document,
          now: Date.now,
          isMobile: deps.context().device != 'desktop',
          activity: deps.activity,
          session: deps.context().session.start,
          log: deps.log,
          page,
        },
        fire,
      ),
    chunkLoader<PopletUi>(deps.uiUrl, UI_GLOBAL, deps.nonce),
    // Next to the UI chunk: both are built and deployed together.
    chunkLoader<StartCollect>(beside(deps.uiUrl, 'poplet.collect.js'), COLLECT_GLOBAL, deps.nonce),
    waitFor,
  );
