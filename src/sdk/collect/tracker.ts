// Analytics: display/close/click/sign-up events, batched into one POST /events shortly after the
// last one, and handed to sendBeacon when the page goes away. Counts are aggregates; the visitor's
// analytics id rides along only when consent allows (visitorId() returns one).
import type { AnalyticsEvent, EventBatch, EventKind } from '../../shared/events';
import { post, type Net } from './net';

const DEBOUNCE = 1000;
const MAX = 100;

export type Track = (kind: EventKind, campaign: number, group?: string) => void;

export function createTracker(endpoint: string, site: string, visitorId: () => string | undefined, net: Net, log: (m: string, d?: unknown) => void): Track {
  const url = endpoint + '/events';
  let queue: AnalyticsEvent[] = [];
  let timer: unknown;

  const take = (): EventBatch | undefined => {
    net.clearTimeout(timer);
    timer = undefined;
    if (!queue.length) return;
    const batch: EventBatch = { site, events: queue };
    const visitor = visitorId();
    if (visitor) batch.visitor = visitor;
    queue = [];
    return batch;
  };
  const send = async () => {
    const batch = take();
    const [status] = batch ? await post(net, url, batch) : [200];
    if (status < 200 || status > 299) log('analytics: batch not delivered', { status });
  };
  const leave = () => {
    const batch = take();
    if (batch && !net.beacon(url, JSON.stringify(batch))) void post(net, url, batch);
  };
  net.on('pagehide', leave);
  net.on('hidden', leave);

  return (k, c, g) => {
    if (queue.length >= MAX) return log('analytics: queue full, event dropped', { k, c });
    queue.push(g ? { k, c, g, t: net.now() } : { k, c, t: net.now() });
    timer ??= net.setTimeout(send, DEBOUNCE);
  };
}
