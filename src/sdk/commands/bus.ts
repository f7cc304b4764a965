// The listen bus behind `wisepops('listen', name, [campaignId], callback)`. Callbacks get one
// CustomEvent-like argument {type, detail, target}: the form is the target of form events, which
// integrations written for Wisepops read (`event.target.elements.email.value`). A `before-*`
// callback returning false vetoes; a throwing callback is logged and skipped. `ready` fires
// once; later listeners get it at once.
import type { ListenEvent } from '../listen';
import type { Log } from '../log';

type Detail = Record<string, unknown>;
export type Listener = (event: { type: ListenEvent; detail: Detail; target?: EventTarget }) => unknown;

/** The event names `listen` accepts. Poplet has no tabs: before-tab-display never fires. */
export const EVENTS = /^(ready|after-popup-close|before-tab-display|(before|after)-(popup-display|form-submit|tracked-click))$/;

export interface Bus {
  on(name: ListenEvent, callback: Listener, campaignId?: number): void;
  /** False when a before-* listener vetoed. Never throws. */
  emit(name: ListenEvent, detail: Detail, target?: EventTarget): boolean;
}

export function createBus(log: Log): Bus {
  const subs: Array<[ListenEvent, Listener, number | undefined]> = [];
  let ready: Detail | undefined;
  const call = (cb: Listener, type: ListenEvent, detail: Detail, target?: EventTarget) => {
    try {
      return cb({ type, detail, target }) !== false;
    } catch (e) {
      log(type + ': a listener threw', e);
      return true;
    }
  };
  return {
    on(name, cb, id) {
      subs.push([name, cb, id]);
      if (name == 'ready' && ready) call(cb, name, ready);
    },
    emit(name, detail, target) {
      if (name == 'ready') {
        if (ready) return true;
        ready = detail;
      }
      let ok = true;
      // A listener is about one campaign when it gave an id: detail.popup.id (Wisepops' shape).
      for (const [n, cb, id] of subs.slice()) if (n === name && (id == null || id === ((detail.popup || {}) as Detail).id)) ok = call(cb, n, detail, target) && ok;
      return ok || name[0] != 'b';
    },
  };
}
