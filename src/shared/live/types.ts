// Types of the live preview's requests: which students it can run and the model it receives for one of them.
import type { RunStatus } from '../student/types.ts';

/** Where the live preview takes its student from: a run's newest checkpoint, or an exported package. */
export type LiveStudentSource = { kind: 'run'; runId: number } | { kind: 'package'; path: string };

/** A training run with at least one checkpoint, as the live preview lists it. */
export interface LiveRun {
  runId: number;
  /** The training job; the live view follows its events to pick up new checkpoints. */
  jobId: string;
  status: RunStatus;
  /** Step of the newest checkpoint. */
  checkpointStep: number;
  /** sha256 of the newest checkpoint. */
  checkpointSha: string;
  /** The student's square input size in pixels. */
  size: number;
  createdAt: string;
}

/** A deployable student model for the live preview (ONNX, float32 NCHW RGB in [0, 1], batch 1). */
export interface LiveStudentModel {
  source: LiveStudentSource;
  /** What to call it on screen, e.g. "Run 3 · step 2000". */
  label: string;
  /** Square input and output size in pixels. */
  size: number;
  inputName: string;
  outputName: string;
  /** The model's colour order and the values pixel 0 and 255 map to (the studio's students: RGB, [0, 1]). */
  colorOrder: 'RGB' | 'BGR';
  valueRange: [number, number];
  /** The checkpoint it was built from (null for a package). */
  checkpointStep: number | null;
  checkpointSha: string | null;
  /** sha256 of the ONNX model bytes; fetch them with `live:model-part` in {@link LIVE_MODEL_PART_BYTES} parts. */
  modelSha256: string;
  modelBytes: number;
  parts: number;
}

/** Size of one `live:model-part` answer before base64: well under the browser host's 4 MiB message limit. */
export const LIVE_MODEL_PART_BYTES = 1024 * 1024;
