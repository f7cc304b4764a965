// The `wisepops_props` record: persistent custom properties, a nested plain object.
import { PROPS, type Store } from './store';

export type Props = Record<string, unknown>;

export const isObject = (x: unknown): x is Props => Object.prototype.toString.call(x) === '[object Object]';

export function readProps(store: Store): Props {
  return (
    store.read(PROPS, ([p]) => {
      if (!isObject(p)) throw Error('bad properties');
      return p;
    }) || {}
  );
}

/** Deep merge into a copy of `base`; a null value deletes the key. */
export function mergeProps(base: Props, patch: Props): Props {
  const out: Props = { ...base };
  for (const k of Object.keys(patch)) {
    const v = patch[k];
    if (v === null) delete out[k];
    else out[k] = isObject(v) ? mergeProps(isObject(out[k]) ? (out[k] as Props) : {}, v) : v;
  }
  return out;
}

/** False when the result would not fit in the record (nothing is written then). */
export const writeProps = (store: Store, props: Props): boolean => store.write(PROPS, [props]);
