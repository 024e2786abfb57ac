// Messages between the job manager (main thread) and a job worker, tagged by `type`.
import type { JobProgress } from '../../shared/contract.ts';

/** Where a job worker finds the studio's data: the data folder and, in Electron, the Electron-ABI SQLite build. */
export interface WorkerEnv {
  dataDir: string | null;
  sqliteNativeBinding: string | null;
}

/** Main → worker: run one job (with the checkpoint it left when resumed), or stop it. */
export type ToWorkerMessage =
  | { type: 'start'; jobId: string; kind: string; params: unknown; checkpoint: unknown; env: WorkerEnv }
  | { type: 'cancel' };

/** Worker → main: progress and checkpoints while running, then exactly one of succeeded / failed / cancelled. */
export type FromWorkerMessage =
  | ({ type: 'progress' } & JobProgress)
  | { type: 'checkpoint'; state: unknown }
  | { type: 'succeeded'; result: unknown }
  | { type: 'failed'; error: string; stack?: string | undefined }
  | { type: 'cancelled' };

/** True for a well-formed {@link FromWorkerMessage}. */
export function isFromWorkerMessage(value: unknown): value is FromWorkerMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  switch (m['type']) {
    case 'progress':
      return isFiniteNumber(m['step']) && isFiniteNumber(m['total']) && typeof m['message'] === 'string';
    case 'checkpoint':
      return 'state' in m;
    case 'succeeded':
      return 'result' in m;
    case 'failed':
      return typeof m['error'] === 'string';
    case 'cancelled':
      return true;
    default:
      return false;
  }
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
