// Deliveries queued while the clock ran ahead (a VM resumed with a stale offset, a wrong RTC),
// the clock then stepped back: they are due at the time the clock said then, and the worker
// waited until the clock caught up (a day ahead: a day), every later sign-up of the hook queued
// behind them. README: a worker sends them as soon as they exist.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startHookWorker, type HookWorker } from '../../src/server/hooks/worker';
import { addHook, makeEnv, signup, startReceiver, waitFor, type Env, type Receiver } from './hooks-fixture';

const DAY = 86_400_000;
let env: Env | undefined;
let receiver: Receiver | undefined;
let worker: HookWorker | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await worker?.stop();
  worker = undefined;
  await receiver?.close();
  receiver = undefined;
  env?.cleanup();
  env = undefined;
});

describe('hook deliveries queued while the clock ran ahead', () => {
  it('are sent once the clock is back, and so are the ones queued after them', async () => {
    env = makeEnv();
    receiver = await startReceiver('up');
    addHook(env.deps, env.siteId, receiver.url);
    const ahead = Date.now() + DAY;
    vi.spyOn(Date, 'now').mockReturnValue(ahead);
    const early = signup(env.deps, env.siteId, 2);
    vi.restoreAllMocks();
    worker = startHookWorker(env.deps, { pollMs: 20 });
    const later = signup(env.deps, env.siteId, 1);
    await waitFor(() => receiver!.emails().length === 3, 5_000, 'the three deliveries');
    expect(receiver.emails().sort()).toEqual([...early, ...later].sort());
  });

  it('a batch whose retry was set while the clock ran ahead is retried within the longest backoff', async () => {
    env = makeEnv();
    receiver = await startReceiver('down');
    addHook(env.deps, env.siteId, receiver.url);
    const ahead = Date.now() + 30 * DAY;
    const now = vi.spyOn(Date, 'now').mockReturnValue(ahead);
    signup(env.deps, env.siteId, 1);
    worker = startHookWorker(env.deps, { pollMs: 20, backoffBaseMs: 50, backoffMaxMs: 200, now: () => Date.now() });
    await waitFor(() => receiver!.requests.length >= 1, 5_000, 'the first attempt');
    await worker.stop();
    now.mockRestore();
    receiver.mode = 'up';
    worker = startHookWorker(env.deps, { pollMs: 20, backoffBaseMs: 50, backoffMaxMs: 200 });
    await waitFor(() => receiver!.emails().length === 1, 5_000, 'the retry');
  });
});
