// Bounds and defaults of the student's architecture and training settings, shared by the form, the schemas and the runner.
import type { StudentConfig, StudentTrainParams } from './types.ts';

/** Bounds of every architecture setting. */
export const STUDENT_LIMITS = {
  /** 128–512 for real students; 64 is allowed for tests and quick experiments. */
  size: { min: 64, max: 512, multipleOf: 32 },
  width: { min: 0.25, max: 2 },
  residualScale: { min: 0.05, max: 2 },
} as const;

/** The default student: 256², width 1, ReLU6, residual bounded to ±1 (≈ 0.2 GMAC per frame). */
export const DEFAULT_STUDENT: StudentConfig = { size: 256, width: 1, activation: 'relu6', residualScale: 1 };

/** Bounds of the training settings (inclusive). */
export const TRAIN_LIMITS = {
  steps: { min: 1, max: 1_000_000 },
  batch: { min: 1, max: 64 },
  lr: { min: 1e-6, max: 0.1 },
  weightDecay: { min: 0, max: 1 },
  warmupSteps: { min: 0, max: 100_000 },
  clipGradNorm: { min: 0, max: 1000 },
  multiScaleWeight: { min: 0, max: 10 },
  validateEvery: { min: 1, max: 100_000 },
  checkpointEvery: { min: 1, max: 1_000_000 },
  earlyStopPatience: { min: 0, max: 1000 },
  validationItems: { min: 1, max: 1000 },
  jitter: { min: 0, max: 0.5 },
  occluders: { min: 0, max: 1 },
  seed: { min: 0, max: 2 ** 31 - 1 },
} as const;

/** Training settings a new run starts from (the dataset still has to be chosen). */
export const DEFAULT_TRAIN_PARAMS: Omit<StudentTrainParams, 'datasetId'> = {
  student: DEFAULT_STUDENT,
  steps: 20_000,
  batch: 8,
  lr: 2e-3,
  optimizer: 'adamw',
  weightDecay: 1e-4,
  warmupSteps: 500,
  clipGradNorm: 1,
  multiScaleWeight: 0.5,
  validateEvery: 500,
  checkpointEvery: 2000,
  earlyStopPatience: 8,
  validationItems: 64,
  augment: { flip: true, jitter: 0.1, occluders: 0.3 },
  seed: 1,
};
