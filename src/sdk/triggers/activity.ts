// The `wisepops_activity_session` record: which campaigns' exit intent already fired this
// session. Stored as {"x":[ids]}; anything unreadable counts as empty.
type Store = { get(): string | undefined; set(value: string): void };

export function exitFired(s: Store): number[] {
  try {
    const x = (JSON.parse(s.get() || '{}') as { x?: unknown }).x;
    return Array.isArray(x) ? x.filter((n): n is number => typeof n == 'number') : [];
  } catch {
    return [];
  }
}

export function markExitFired(s: Store, ids: number[]): void {
  const x = exitFired(s);
  for (const i of ids) if (!x.includes(i)) x.push(i);
  s.set(JSON.stringify({ x }));
}
