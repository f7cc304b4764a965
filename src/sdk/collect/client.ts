// The collection client of one core: one sign-up outbox and one analytics tracker, and the
// UiHost of each shown campaign over them. It is the collection chunk (see ./contract): loaded
// with the UI chunk, or alone by a page view that finds sign-ups left unsent.
import type { Collect, CollectKit } from './contract';
import { uiHost } from './host';
import { browserNet, type Net } from './net';
import { createOutbox } from './outbox';
import { createTracker } from './tracker';

export function client(kit: CollectKit, browser: Omit<Net, 'serialize'> = browserNet): Collect {
  const { deps } = kit;
  const net = { ...browser, serialize: kit.serialize };
  let store: Storage | null = null;
  try {
    // Reading `localStorage` itself throws where storage is blocked: the outbox keeps to memory.
    store = localStorage;
  } catch {
    /* memory */
  }
  const outbox = createOutbox(deps.endpoint, net, deps.log, store, deps.site);
  const track = createTracker(deps.endpoint, deps.site, deps.visitorId, net, deps.log);
  return { host: (group, closed) => uiHost(kit, outbox, track, group, closed), flush: outbox.flush };
}
