// Names of the `wisepops('listen', name, callback)` events (Wisepops' JS API names): the public
// typings own the list.
export type { PopletListenEvent as ListenEvent } from './global';
