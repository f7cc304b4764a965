// Collection chunk entry (dist/poplet.collect.js): registers the client for the core.
import { client } from './client';
import { COLLECT_GLOBAL, type StartCollect } from './contract';

(window as unknown as Record<string, StartCollect>)[COLLECT_GLOBAL] = client;
