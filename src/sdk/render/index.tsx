// UI chunk entry (dist/poplet.ui.js): registers the renderer for the core, which loads this file
// only when a campaign is about to show.
import { UI_GLOBAL, type PopletUi } from './contract';
import { show } from './mount';

const ui: PopletUi = { show };
(window as unknown as Record<string, PopletUi>)[UI_GLOBAL] = ui;
