// Analytics: display/close/click/sign-up events, batched into one POST /events shortly after the
// last one, and handed to sendBeacon when the page goes away or to the background. (Goals and
// control-group counts do not wait: the core sends them, see ./send-now.) Counts are aggregates;
// the visitor's analytics id rides along only when consent allows (visitorId() returns one).
import type { AnalyticsEvent, EventBatch, EventKind } from '../../shared/events';
import { post, type Log, type Net } from './net';

export type Track = (kind: EventKind, campaign: number, group?: string) => void;

export function createTracker(endpoint: string, site: string, visitorId: () => string | undefined, net: Net, log: Log): Track {
  // Inside the function, where esbuild writes them in place.
  const DEBOUNCE = 1000;
  const MAX = 100;
  const url = endpoint + '/events';
  const events: AnalyticsEvent[] = [];
  let timer: unknown;

  /** The queued events as a batch (undefined values vanish in JSON), or nothing. */
  const take = (): EventBatch | undefined => {
    net.clearTimeout(timer);
    timer = 0;
    if (events.length) return { site, visitor: visitorId(), events: events.splice(0) };
  };
  const send = async () => {
    const batch = take();
    const [status] = batch ? await post(net, url, batch) : [200];
    if (((status / 100) | 0) != 2) log('analytics: not delivered', status);
  };
  const leave = () => {
    const batch = take();
    if (batch && !net.beacon(url, net.serialize(batch))) void post(net, url, batch);
  };
  net.on('pagehide', leave);
  net.on('hidden', leave);

  return (k, c, g) => {
    if (events.length >= MAX) return log('analytics: queue full', k);
    events.push({ k, c, g, t: net.now() });
    timer = timer || net.setTimeout(send, DEBOUNCE);
  };
}
