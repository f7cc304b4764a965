// Goals and control-group counts, sent by the core itself: no chunk to wait for, and handed to
// the browser at once because a goal often comes right before a navigation. sendBeacon posts
// text/plain (no CORS preflight); where it is missing or refuses, fetch with keepalive.
import type { EventBatch } from '../../shared/events';
import { stringify } from '../json';
import { safe } from '../guard';

export function sendNow(endpoint: string, batch: EventBatch): void {
  const url = endpoint + '/events';
  const body = stringify(batch);
  // sendBeacon missing (old browsers, some webviews) or refusing: fetch.
  safe(() => navigator.sendBeacon(url, body)) || fetch(url, { method: 'POST', body, keepalive: true, credentials: 'omit' }).catch(() => {});
}
