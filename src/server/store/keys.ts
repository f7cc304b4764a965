// API keys: shown once, stored as a SHA-256 hash (lookup, constant-time compare) and encrypted
// with AES-256-GCM under a secret kept outside the database, because hook signing needs the raw
// key (HMAC). A leaked database alone exposes neither.
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from './db';

/** The server secret: env POPLET_SECRET, else `<dataDir>/secret.key`, created 0600 on first use. */
export function loadSecret(dataDir: string, env: Record<string, string | undefined> = process.env): Buffer {
  const given = env.POPLET_SECRET;
  if (given) return createHash('sha256').update(given).digest();
  const file = join(dataDir, 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    // 'wx': never overwrite a secret another process created meanwhile.
    try {
      writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    chmodSync(file, 0o600);
  }
  const hex = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${file} is not a 32-byte hex secret`);
  return Buffer.from(hex, 'hex');
}

export const newApiKey = (): string => randomBytes(24).toString('base64url');

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** Constant-time equality of two hex hashes. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `iv.tag.ciphertext`, base64url. */
export function encryptKey(secret: Buffer, key: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secret, iv);
  const ct = Buffer.concat([cipher.update(key, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), ct].map((b) => b.toString('base64url')).join('.');
}

export function decryptKey(secret: Buffer, enc: string): string {
  const [iv, tag, ct] = enc.split('.').map((p) => Buffer.from(p, 'base64url'));
  if (!iv || !tag || !ct) throw new Error('malformed encrypted key');
  const decipher = createDecipheriv('aes-256-gcm', secret, iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
}

/** The raw API key of a site, for HMAC-signing hook payloads. Throws on an unknown site or a wrong secret. */
export function signingKey(db: Db, secret: Buffer, siteId: string): string {
  const row = db.prepare('SELECT key_enc FROM sites WHERE id = ?').get(siteId) as { key_enc: string } | undefined;
  if (!row) throw new Error(`unknown site ${siteId}`);
  return decryptKey(secret, row.key_enc);
}
