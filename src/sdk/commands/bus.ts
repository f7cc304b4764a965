// The listen bus behind `wisepops('listen', name, [campaignId], callback)`. Callbacks get one
// CustomEvent-like argument {type, detail}. A `before-*` callback returning false vetoes; a
// throwing callback is logged and skipped. `ready` fires once; later listeners get it at once.
import type { ListenEvent } from '../listen';
import type { Log } from '../log';

export type Listener = (event: { type: ListenEvent; detail: Record<string, unknown> }) => unknown;

export const EVENTS: readonly ListenEvent[] = [
  'ready',
  'before-popup-display',
  'after-popup-display',
  'after-popup-close',
  'before-form-submit',
  'after-form-submit',
  'before-tracked-click',
  'after-tracked-click',
];

export interface Bus {
  on(name: ListenEvent, callback: Listener, campaignId?: number): void;
  /** False when a before-* listener vetoed. Never throws. */
  emit(name: ListenEvent, detail: Record<string, unknown>): boolean;
}

/** The campaign an event is about: detail.popup.id (Wisepops' shape). */
const campaignOf = (detail: Record<string, unknown>) => ((detail.popup || {}) as { id?: unknown }).id;

export function createBus(log: Log): Bus {
  const subs: Array<[ListenEvent, Listener, number | undefined]> = [];
  let ready: Record<string, unknown> | undefined;
  const call = (cb: Listener, type: ListenEvent, detail: Record<string, unknown>): boolean => {
    try {
      return cb({ type, detail }) !== false;
    } catch (e) {
      log(`listen ${type}: a callback threw`, e);
      return true;
    }
  };
  return {
    on(name, cb, id) {
      subs.push([name, cb, id]);
      if (name === 'ready' && ready) call(cb, name, ready);
    },
    emit(name, detail) {
      if (name === 'ready') {
        if (ready) return true;
        ready = detail;
      }
      let ok = true;
      for (const [n, cb, id] of subs.slice()) if (n === name && (id == null || id === campaignOf(detail))) ok = call(cb, n, detail) && ok;
      return ok || !name.startsWith('before-');
    },
  };
}
