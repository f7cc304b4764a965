// Core entry (dist/poplet.js). Filled in by the foundation work.
export {};
