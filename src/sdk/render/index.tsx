// UI chunk entry (dist/poplet.ui.js). Filled in by the rendering work.
export {};
