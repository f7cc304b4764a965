// Core entry (dist/poplet.js): wires the command layer to the engine and takes over from the
// snippet's stub. Everything it does is guarded inside install().
import { createEngine } from './engine';
import { install } from './commands/install';

install(window, createEngine);
