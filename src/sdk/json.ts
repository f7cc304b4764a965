// JSON.stringify for everything Poplet stores or sends. Prototype.js (1.6 and older, still found
// on shops) gives Array.prototype a toJSON that returns a string, and JSON.stringify then writes
// every array as a string: each record would read back as another format and be reset on every
// page, and the server would refuse {"events":"[…]"}. The page's toJSON is set aside while we
// stringify and put back as it was (same attributes), even when stringify throws. One that
// cannot be removed (not configurable) stays: Reflect.deleteProperty returns false, never throws.
export const stringify = (value: unknown): string => {
  const a = Array.prototype;
  const d = Object.getOwnPropertyDescriptor(a, 'toJSON');
  try {
    if (d) Reflect.deleteProperty(a, 'toJSON');
    return JSON.stringify(value);
  } finally {
    if (d) Object.defineProperty(a, 'toJSON', d);
  }
};
