// Creates (or reuses) the demo site and its API key, allows the demo website's origins, imports the
// demo campaigns and registers the demo's webhook. Everything goes through the server's own store
// functions and HTTP API, never SQL by hand. The API key is shown once at creation, so the demo keeps
// it in <dataDir>/demo-site.json (0600) to reuse it on the next `npm start`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../src/server/store/db';
import { loadSecret, hashKey } from '../src/server/store/keys';
import { addSite, setOrigins, siteByKeyHash } from '../src/server/store/sites';
import { importCampaigns } from '../src/server/store/campaigns';

export const DEMO_CAMPAIGNS = join(import.meta.dirname, 'campaigns.json');

export interface DemoProvision {
  siteId: string;
  apiKey: string;
  /** True when the site was created now (false: reused from demo-site.json). */
  created: boolean;
  hookId: number;
}

interface SavedSite {
  siteId: string;
  apiKey: string;
}

function savedSite(file: string): SavedSite | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<SavedSite>;
    return typeof s.siteId === 'string' && typeof s.apiKey === 'string' ? { siteId: s.siteId, apiKey: s.apiKey } : undefined;
  } catch {
    return undefined;
  }
}

/** Site, key, origins and campaigns, straight in the database the server uses. */
export function provisionSite(opts: { dataDir: string; dbPath: string; origins: string[] }): Omit<DemoProvision, 'hookId'> {
  const file = join(opts.dataDir, 'demo-site.json');
  const db = openDb(opts.dbPath);
  try {
    let saved = savedSite(file);
    // Reuse only if the site still exists and the saved key is still its key (not rotated).
    if (saved && siteByKeyHash(db, hashKey(saved.apiKey))?.id !== saved.siteId) saved = undefined;
    const created = !saved;
    if (!saved) {
      const { site, key } = addSite(db, loadSecret(opts.dataDir), { domain: 'localhost', origins: opts.origins });
      saved = { siteId: site.id, apiKey: key };
      writeFileSync(file, JSON.stringify(saved, null, 2) + '\n', { mode: 0o600 });
    }
    setOrigins(db, saved.siteId, opts.origins);
    importCampaigns(db, saved.siteId, JSON.parse(readFileSync(DEMO_CAMPAIGNS, 'utf8')) as unknown);
    return { ...saved, created };
  } finally {
    db.close();
  }
}

const auth = (apiKey: string) => ({ Authorization: `WISEPOPS-API key="${apiKey}"` });

async function api(serverUrl: string, apiKey: string, path: string, init: RequestInit = {}): Promise<unknown> {
  const r = await fetch(`${serverUrl}${path}`, { ...init, headers: { ...auth(apiKey), ...(init.headers as Record<string, string>) } });
  const text = await r.text();
  if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${path} → ${r.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : null;
}

/**
 * The demo's hook, through the public hooks API (the seed's POST /api1/hooks): kept when it exists,
 * created otherwise. Only hooks of an earlier demo run on another port (the demo receiver's path on
 * a loopback host) are deleted, so sign-ups are not posted to nowhere; hooks you added stay.
 */
export async function registerDemoHook(serverUrl: string, apiKey: string, hookUrl: string): Promise<number> {
  const hooks = (await api(serverUrl, apiKey, '/api1/hooks')) as Array<{ id: number; target_url: string }>;
  const path = new URL(hookUrl).pathname;
  let id: number | undefined;
  for (const h of hooks) {
    if (h.target_url === hookUrl && id === undefined) id = h.id;
    else if (isEarlierDemoReceiver(h.target_url, path)) await api(serverUrl, apiKey, `/api1/hooks?hook_id=${h.id}`, { method: 'DELETE' });
  }
  if (id !== undefined) return id;
  const created = (await api(serverUrl, apiKey, '/api1/hooks', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ event: 'email', target_url: hookUrl }),
  })) as { id: number };
  return created.id;
}

function isEarlierDemoReceiver(target: string, path: string): boolean {
  try {
    const u = new URL(target);
    return u.pathname === path && (u.hostname === '127.0.0.1' || u.hostname === 'localhost');
  } catch {
    return false;
  }
}
