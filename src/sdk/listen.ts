// Names of the `wisepops('listen', name, callback)` events (Wisepops' JS API names).
export type ListenEvent =
  | 'ready'
  | 'before-popup-display'
  | 'after-popup-display'
  | 'after-popup-close'
  | 'before-form-submit'
  | 'after-form-submit'
  | 'before-tracked-click'
  | 'after-tracked-click';
