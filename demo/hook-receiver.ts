// The demo's webhook receiver: what a site owner would run to receive sign-ups from Poplet hooks.
// It checks X-Wisepops-Signature exactly as the hooks document's PHP example does
// (hash_hmac('sha256', $payload, $apiKey) over the raw body), in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface ReceivedHook {
  receivedAt: string;
  /** X-Poplet-Delivery: stable across retries of one batch, so receivers can deduplicate. */
  deliveryId: string | null;
  signature: string | null;
  valid: boolean;
  /** Parsed body (an array of EmailRow), or the raw text when it is not JSON. */
  payload: unknown;
  /** The exact body as received (what the signature covers). */
  raw: string;
}

const MAX_BODY = 1 << 20;

/** Hex HMAC-SHA256 of the exact body bytes, keyed with the API key, compared in constant time. */
export function signatureIsValid(raw: Buffer, header: string | undefined, apiKey: string): boolean {
  if (!header || !/^[0-9a-f]+$/i.test(header)) return false;
  const expected = createHmac('sha256', apiKey).update(raw).digest();
  const got = Buffer.from(header, 'hex');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parse(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return raw.toString('utf8');
  }
}

/**
 * Handles POST /poplet/hook: records the delivery with its check result, answers 200 when the
 * signature is valid and 401 otherwise (so a forged payload is refused, as the seed's receiver does).
 */
export async function receiveHook(
  req: IncomingMessage,
  res: ServerResponse,
  apiKey: string,
  record: (hook: ReceivedHook) => void,
): Promise<void> {
  const raw = await readBody(req);
  if (!raw) {
    res.writeHead(413, { 'content-type': 'application/json' }).end('{"error":"payload too large"}');
    return;
  }
  const header = req.headers['x-wisepops-signature'];
  const signature = typeof header === 'string' ? header : null;
  const delivery = req.headers['x-poplet-delivery'];
  const valid = signatureIsValid(raw, signature ?? undefined, apiKey);
  record({
    receivedAt: new Date().toISOString(),
    deliveryId: typeof delivery === 'string' ? delivery : null,
    signature,
    valid,
    payload: parse(raw),
    raw: raw.toString('utf8'),
  });
  res.writeHead(valid ? 200 : 401, { 'content-type': 'application/json' });
  res.end(valid ? '{"ok":true}' : '{"error":"signature verification failed"}');
}
