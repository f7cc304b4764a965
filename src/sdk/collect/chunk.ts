// The collection client as the UI chunk exposes it (PopletUi.collect): one outbox and one
// analytics tracker per core, and the UiHost of each shown campaign.
import type { Collect, CollectKit } from '../render/contract';
import { uiHost } from './host';
import { browserNet, type Net } from './net';
import { createOutbox } from './outbox';
import { createTracker } from './tracker';

export function collect(kit: CollectKit, net: Net = browserNet): Collect {
  const { deps } = kit;
  let store: Storage | null = null;
  try {
    // Reading `localStorage` itself throws where storage is blocked: the outbox keeps to memory.
    store = localStorage;
  } catch {
    /* memory */
  }
  const outbox = createOutbox(deps.endpoint, net, deps.log, store);
  const track = createTracker(deps.endpoint, deps.site, deps.visitorId, net, deps.log);
  return { host: (group, closed) => uiHost(kit, outbox, track, group, closed), flush: () => outbox.flush() };
}
