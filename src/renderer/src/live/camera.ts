// The webcam: listing cameras, opening one at a chosen resolution, and saying plainly why it could not be opened.

/** Resolutions offered in the picker (the camera may deliver the nearest it supports). */
export const RESOLUTIONS = [
  { id: '640x480', width: 640, height: 480 },
  { id: '1280x720', width: 1280, height: 720 },
  { id: '1920x1080', width: 1920, height: 1080 },
] as const;

/** One of {@link RESOLUTIONS}. */
export type ResolutionId = (typeof RESOLUTIONS)[number]['id'];

/** Why the camera is not showing. */
export interface CameraProblem {
  kind: 'denied' | 'no-camera' | 'busy' | 'unsupported' | 'failed';
  message: string;
}

/** A camera the user can pick. */
export interface CameraDevice {
  deviceId: string;
  label: string;
}

const UNSUPPORTED = 'This browser gives the page no camera access (it needs a secure origin such as 127.0.0.1).';

/** The user-facing reason for a getUserMedia failure. */
export function describeCameraError(error: unknown): CameraProblem {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  const detail = error instanceof Error && error.message ? ` (${error.message})` : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return {
        kind: 'denied',
        message: 'Camera access was denied. Allow the camera for this page in the browser or system settings, then press Start camera again.',
      };
    case 'NotFoundError':
    case 'OverconstrainedError':
      return { kind: 'no-camera', message: 'No camera was found. Connect a webcam, then press Start camera again.' };
    case 'NotReadableError':
    case 'AbortError':
      return { kind: 'busy', message: `The camera could not be started; another application may be using it${detail}.` };
    case 'UnsupportedError':
      return { kind: 'unsupported', message: UNSUPPORTED };
    default:
      return { kind: 'failed', message: `The camera could not be opened${detail || `: ${String(error)}`}.` };
  }
}

/** Opens a camera (the default one when `deviceId` is null) asking for a resolution. */
export async function openCamera(deviceId: string | null, resolution: ResolutionId): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) throw Object.assign(new Error(UNSUPPORTED), { name: 'UnsupportedError' });
  const size = RESOLUTIONS.find((r) => r.id === resolution) ?? RESOLUTIONS[0];
  return navigator.mediaDevices.getUserMedia({
    audio: false,
    video: {
      ...(deviceId === null ? {} : { deviceId: { exact: deviceId } }),
      width: { ideal: size.width },
      height: { ideal: size.height },
    },
  });
}

/** The cameras the browser lists (labels appear once the user has allowed a camera). */
export async function listCameras(): Promise<CameraDevice[]> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices
    .filter((d) => d.kind === 'videoinput')
    .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Camera ${i + 1}` }));
}
