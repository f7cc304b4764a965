// createEngine: the engine wired to the real page: the triggers on this window and the loaders
// of the UI and collection chunks.
import { COLLECT_GLOBAL, type StartCollect } from '../collect/contract';
import { UI_GLOBAL, type PopletUi } from '../render/contract';
import { armTriggers } from '../triggers';
import { beside, chunkLoader } from './chunk';
import { makeEngine } from './engine';
import type { Engine, EngineDeps } from './types';

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
          log: deps.log,
          page,
        },
        fire,
      ),
    chunkLoader<PopletUi>(deps.uiUrl, UI_GLOBAL, deps.nonce),
    // Next to the UI chunk: both are built and deployed together.
    chunkLoader<StartCollect>(beside(deps.uiUrl, 'poplet.collect.js'), COLLECT_GLOBAL, deps.nonce),
  );
