// Type declarations for `window.wisepops` (copied to dist/poplet.d.ts by the build).
export {};
declare global {
  interface Window {
    wisepops: PopletCommand;
  }
}
export interface PopletCommand {
  (command: string, ...args: unknown[]): unknown;
}
