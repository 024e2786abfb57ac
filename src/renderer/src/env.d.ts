// Ambient types of the renderer: what the Electron preload adds to `window`.
import type { StudioApi } from '../../shared/contract.ts';

declare global {
  interface Window {
    /** The studio's API, present only inside Electron (the preload exposes it via contextBridge). */
    readonly studio?: StudioApi;
  }
}

export {};
