// UI chunk entry (dist/poplet.ui.js): registers the renderer and the collection client for the
// core, which loads this file only when a campaign is about to show or a sign-up waits to be sent.
import { UI_GLOBAL, type PopletUi } from './contract';
import { show } from './mount';
import { collect } from '../collect/chunk';

const ui: PopletUi = { show, collect };
(window as unknown as Record<string, PopletUi>)[UI_GLOBAL] = ui;
