// A scripted Net: fetch answers come from a queue the test fills, time and timers are manual,
// lifecycle events are fired by hand, with an Event as the browser passes one (a handler that
// takes an optional argument of its own must not mistake it for that).
import type { Net } from '../../../src/sdk/collect/net';
import { stringify } from '../../../src/sdk/json';

export type Answer = number | 'network' | 'hang' | { status: number; body: unknown };

export function fakeNet() {
  const answers: Answer[] = [];
  const sent: Array<{ url: string; body: unknown; keepalive?: boolean; type?: string }> = [];
  const beacons: Array<{ url: string; body: unknown }> = [];
  const timers = new Map<number, { at: number; fn: () => void }>();
  const handlers: Record<string, Array<(e: Event) => void>> = {};
  let clock = 1_000_000;
  let seq = 0;
  let beaconOk = true;

  const net: Net = {
    async fetch(url, init) {
      const headers = init.headers as Record<string, string>;
      sent.push({ url, body: JSON.parse(String(init.body)), keepalive: init.keepalive, type: headers['content-type'] });
      const a = answers.shift() ?? 200;
      if (a == 'network') throw new TypeError('Failed to fetch');
      if (a == 'hang')
        return new Promise((_, reject) => init.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
      const { status, body } = typeof a == 'number' ? { status: a, body: {} } : a;
      return new Response(JSON.stringify(body), { status });
    },
    beacon(url, body) {
      beacons.push({ url, body: JSON.parse(body) });
      return beaconOk;
    },
    now: () => clock,
    setTimeout(fn, ms) {
      timers.set(++seq, { at: clock + ms, fn });
      return seq;
    },
    clearTimeout: (id) => void timers.delete(id as number),
    on: (event, fn) => void (handlers[event] ??= []).push(fn),
    serialize: stringify,
  };

  /** Let pending promise chains (fetch → json → storage) settle. */
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return {
    net,
    answers,
    sent,
    beacons,
    timers,
    settle,
    fire: (event: string) => handlers[event]?.forEach((f) => f(new Event(event))),
    failBeacons: () => void (beaconOk = false),
    /** Move the clock on, running due timers in order. */
    async advance(ms: number) {
      const end = clock + ms;
      for (;;) {
        const due = [...timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        clock = due[1].at;
        due[1].fn();
        await settle();
      }
      clock = end;
      await settle();
    },
  };
}
