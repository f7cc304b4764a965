// createEngine: the engine wired to the real browser: fetch, the triggers on this window, the
// UI chunk loader, the sign-up outbox and the analytics tracker.
import { browserNet } from '../collect/net';
import { createOutbox } from '../collect/outbox';
import { createTracker } from '../collect/tracker';
import { armTriggers } from '../triggers';
import { makeEngine } from './engine';
import type { Engine, EngineDeps } from './types';
import { uiLoader } from './ui';

export function createEngine(deps: EngineDeps): Engine {
  const { log, endpoint } = deps;
  let store: Storage | null = null;
  try {
    // Reading `localStorage` itself throws where storage is blocked.
    store = localStorage;
  } catch {
    /* the outbox keeps to memory */
  }
  return makeEngine(deps, {
    arm: (campaigns, fire) =>
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
          log,
        },
        fire,
      ),
    fetch: (url, init) => fetch(url, init),
    loadUi: uiLoader(deps.uiUrl, deps.nonce),
    outbox: createOutbox(endpoint, browserNet, log, store),
    track: createTracker(endpoint, deps.site, deps.visitorId, browserNet, log),
    random: Math.random,
    now: Date.now,
  });
}
