// createEngine: the engine wired to the real page: the triggers on this window, the loaders of
// the UI and collection chunks, and what tells it a modal is open.
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
    modalOpen,
  );
