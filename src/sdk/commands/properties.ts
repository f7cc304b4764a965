// `wisepops('properties', {...})` input checks: keys up to 50 characters, strings up to 255
// (cut), numbers, booleans, dates (stored as ISO strings), nested objects, null to delete.
import { isObject, type Props } from '../storage/props';
import type { Log } from '../log';

export const MAX_KEY = 50;
export const MAX_VALUE = 255;

export function cleanProps(input: Props, log: Log, path = ''): Props {
  const out: Props = {};
  for (const k of Object.keys(input)) {
    const v = input[k];
    const at = path + k;
    if (!k || k.length > MAX_KEY || k === '__proto__') {
      log(`properties: key ${at.slice(0, 60)} ignored (1-${MAX_KEY} chars)`);
    } else if (typeof v === 'string') {
      if (v.length > MAX_VALUE) log(`properties: ${at} cut to ${MAX_VALUE} chars`);
      out[k] = v.slice(0, MAX_VALUE);
    } else if (v === null || typeof v === 'boolean' || (typeof v === 'number' && isFinite(v))) {
      out[k] = v;
    } else if (v instanceof Date && !isNaN(+v)) {
      out[k] = v.toISOString();
    } else if (isObject(v)) {
      out[k] = cleanProps(v, log, at + '.');
    } else {
      log(`properties: ${at} ignored (bad type)`);
    }
  }
  return out;
}
