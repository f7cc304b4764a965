// The `wisepops_props` record (persistent custom properties, a nested plain object) and the
// rules of `wisepops('properties', {...})`.
import { isObject } from './codec';
import { R, type Store } from './store';
import type { Log } from '../log';

export type Props = Record<string, unknown>;

/** `none`: what to use when the record is missing (storage that keeps nothing). */
export const readProps = (store: Store, none: Props = {}): Props => store.one(R.PROPS, {}) || none;

/**
 * `patch` deep merged into a copy of `base`: keys of 1-50 characters, strings cut to 255,
 * finite numbers, booleans, dates (as ISO strings), nested objects; null deletes the key.
 * Anything else is left out with a debug line.
 */
export function mergeProps(base: Props, patch: Props, log: Log, path = ''): Props {
  const out: Props = { ...base };
  for (const k of Object.keys(patch)) {
    const at = path + k;
    let v = patch[k];
    if (v instanceof Date && !isNaN(+v)) v = v.toISOString();
    if (!k || k.length > 50 || k == '__proto__' || !(v === null || isObject(v) || typeof v == 'string' || typeof v == 'boolean' || Number.isFinite(v)))
      log('property ignored: ' + at.slice(0, 60));
    else if (v === null) delete out[k];
    else {
      if (typeof v == 'string' && v.length > 255) log('property cut to 255 chars: ' + at), (v = v.slice(0, 255));
      out[k] = isObject(v) ? mergeProps(isObject(out[k]) ? out[k] : {}, v, log, at + '.') : v;
    }
  }
  return out;
}
