// createEngine: the engine wired to the real page: the triggers on this window, the UI chunk
// loader and (by default) the real collection client.
import { armTriggers } from '../triggers';
import { makeEngine } from './engine';
import type { Engine, EngineDeps } from './types';
import { uiLoader } from './ui';

export const createEngine = (deps: EngineDeps): Engine =>
  makeEngine(
    deps,
    (campaigns, fire, since) =>
      armTriggers(
        campaigns,
        {
          win: window,
          doc: document,
          now: Date.now,
          setTimeout: (f, ms) => setTimeout(f, ms),
          clearTimeout: (id) => clearTimeout(id as number),
          isMobile: deps.context().device != 'desktop',
          activity: deps.activity,
          log: deps.log,
          since,
        },
        fire,
      ),
    uiLoader(deps.uiUrl, deps.nonce),
  );
