// The two Electron IPC channel names that carry the whole StudioApi; shared by main and the preload (inlined there).

/** Renderer → main: `invoke(INVOKE_IPC, channel, params)` answers with a `Result`. */
export const INVOKE_IPC = 'studio:invoke';

/** Main → renderer: `send(EVENT_IPC, event, payload)` for every studio event. */
export const EVENT_IPC = 'studio:event';

/**
 * Preload → main: `postMessage(LIVE_PORT_IPC, null, [port])` hands main one end of a MessageChannel for the native
 * live backend; the page receives the other end as a window `message` event whose data is this same string.
 */
export const LIVE_PORT_IPC = 'studio:live-port';
