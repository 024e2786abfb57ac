// The sandboxed preload: exposes exactly `window.studio: StudioApi` over two IPC channels, and nothing else.
// It must bundle to ONE CommonJS file that requires only `electron` (a sandboxed preload cannot load other modules).
import { contextBridge, ipcRenderer } from 'electron';
import type { EventChannel, Events, StudioApi } from '../shared/contract.ts';
import { EVENT_IPC, INVOKE_IPC, LIVE_PORT_IPC } from '../main/electron/ipc-channels.ts';

const listeners = new Map<string, Set<(payload: never) => void>>();

ipcRenderer.on(EVENT_IPC, (_event, name: unknown, payload: unknown) => {
  for (const listener of listeners.get(String(name)) ?? []) listener(payload as never);
});

const studio: StudioApi = {
  // Params travel as the contract's tuple; main validates channel and params before anything runs.
  invoke: (channel, ...params) => ipcRenderer.invoke(INVOKE_IPC, channel, params),
  on<E extends EventChannel>(event: E, listener: (payload: Events[E]) => void): () => void {
    let set = listeners.get(event);
    if (!set) {
      set = new Set();
      listeners.set(event, set);
    }
    const entry = listener as (payload: never) => void;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  },
  // A MessagePort cannot cross the context bridge: main gets one end over IPC, the page the other by window message.
  requestLivePort(): void {
    const { port1, port2 } = new MessageChannel();
    ipcRenderer.postMessage(LIVE_PORT_IPC, null, [port2]);
    // The preload is type-checked without the DOM library; in the page it runs in, this is `window`.
    const page = globalThis as unknown as { postMessage(message: string, targetOrigin: string, transfer: unknown[]): void; location: { origin: string } };
    page.postMessage(LIVE_PORT_IPC, page.location.origin, [port1]);
  },
};

contextBridge.exposeInMainWorld('studio', studio);
