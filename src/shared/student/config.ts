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

/** Bounds of the optional perceptual and adversarial terms (inclusive; weights must be above 0). */
export const LOSS_LIMITS = {
  perceptualWeight: { min: 0, max: 100 },
  adversarialWeight: { min: 0, max: 10 },
  discriminatorWidth: { min: 8, max: 128 },
  /** Feature maps compared at most. */
  perceptualOutputs: { min: 1, max: 16 },
  /** Bound of the input range ends and means; stds must be above 0 and at most this. */
  normalisation: { min: -1000, max: 1000 },
} as const;

/** Perceptual settings the form starts from: ImageNet normalisation, L1 over the chosen maps, weight 0.1. */
export const DEFAULT_PERCEPTUAL = {
  weight: 0.1,
  distance: 'l1',
  range: [0, 1],
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
} as const;

/** Adversarial settings the form starts from: weight 0.01, a 32-channel discriminator. */
export const DEFAULT_ADVERSARIAL = { weight: 0.01, discriminatorWidth: 32 } as const;

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

/** Named starting points of the Train page and `effects-studio train --preset`. */
export type TrainPreset = 'fast' | 'quality';

/** What each preset changes from {@link DEFAULT_TRAIN_PARAMS}. */
export const TRAIN_PRESETS: Record<TrainPreset, { description: string; params: Omit<StudentTrainParams, 'datasetId'> }> = {
  fast: {
    description: '128², width 0.5, 3,000 steps: a first look at the effect in minutes',
    params: {
      ...DEFAULT_TRAIN_PARAMS,
      student: { ...DEFAULT_STUDENT, size: 128, width: 0.5 },
      steps: 3000,
      warmupSteps: 100,
      validateEvery: 250,
      checkpointEvery: 500,
      earlyStopPatience: 6,
      validationItems: 32,
    },
  },
  quality: {
    description: '256², width 1, 40,000 steps with early stopping: the student to ship',
    params: {
      ...DEFAULT_TRAIN_PARAMS,
      steps: 40_000,
      warmupSteps: 1000,
      validateEvery: 1000,
      checkpointEvery: 2000,
      earlyStopPatience: 10,
      validationItems: 64,
    },
  },
};
