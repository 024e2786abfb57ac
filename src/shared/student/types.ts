// Types of the student (a mobile UNet), its training runs and their metrics: what the `students:*` and `runs:*` requests carry.

/** Activation of the inverted-residual blocks. */
export type StudentActivation = 'relu6' | 'hardswish';

/** Architecture of a student; every field is bounded (see `STUDENT_LIMITS`). */
export interface StudentConfig {
  /** Square input/output size in pixels, 128–512 (tests may go down to 64), a multiple of 32. */
  size: number;
  /** Channel width multiplier, 0.25–2. */
  width: number;
  activation: StudentActivation;
  /** Bound of the predicted residual: output = input + residualScale·tanh(head). */
  residualScale: number;
}

/** The optional loss terms an estimate should count: the discriminator's settings, and whether a feature network is used. */
export interface EstimateLosses {
  adversarial: AdversarialLossParams | null;
  perceptual: boolean;
}

/** What a student costs, reported before training starts. */
export interface StudentDescription {
  config: StudentConfig;
  /** Trainable parameters. */
  parameters: number;
  /** Multiply-adds of one forward pass on one frame. */
  macs: number;
  /**
   * Estimated training memory in bytes for `batch` (activations kept for the backward pass, weights, Adam state),
   * including the adversarial discriminator when it is on.
   */
  trainingBytes: number;
  /** The discriminator's share of `trainingBytes` (0 without the adversarial term). */
  discriminatorBytes: number;
  /** Loss networks whose memory is not in the estimate (a perceptual network is only read when training starts). */
  uncounted: string[];
  batch: number;
  /** Resolution and channels of each level, encoder first. */
  levels: { name: string; size: number; channels: number }[];
}

/** Status of a training run (mirrors its job). */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted' | 'stopped-early';

/** One training run as listed. Times are ISO-8601. */
export interface RunInfo {
  id: number;
  jobId: string;
  datasetId: number;
  config: StudentTrainParams;
  status: RunStatus;
  /** Execution provider the training ran on (null before it started). */
  provider: string | null;
  /** Steps done (the last recorded training step). */
  step: number;
  /** Best validation PSNR so far, dB. */
  bestPsnr: number | null;
  createdAt: string;
}

/** A point of a metric series. */
export interface MetricPoint {
  step: number;
  value: number;
}

/** A checkpoint of a run, kept in the blob store as .safetensors. */
export interface CheckpointInfo {
  step: number;
  sha: string;
  bytes: number;
}

/** A preview strip (input | target | student, side by side) saved at a validation. */
export interface PreviewInfo {
  step: number;
  sha: string;
}

/** A run with its metric series (`train/loss`, `validation/psnr`, …), checkpoints and previews. */
export interface RunDetail extends RunInfo {
  metrics: Record<string, MetricPoint[]>;
  checkpoints: CheckpointInfo[];
  previews: PreviewInfo[];
}

/** Parameters of a `student-train` job. */
export interface StudentTrainParams {
  datasetId: number;
  student: StudentConfig;
  /** Optimizer steps in all. */
  steps: number;
  batch: number;
  /** Peak learning rate. */
  lr: number;
  optimizer: 'adam' | 'adamw';
  weightDecay: number;
  /** Linear warm-up steps before the cosine decay. */
  warmupSteps: number;
  /** Global gradient norm clip (0 = no clipping). */
  clipGradNorm: number;
  /** Weight of the multi-scale L1 term (the plain L1 term has weight 1). */
  multiScaleWeight: number;
  /** Validate (and save previews) every this many steps. */
  validateEvery: number;
  /** Save a checkpoint every this many steps. */
  checkpointEvery: number;
  /** Stop when validation PSNR has not improved for this many validations (0 = never). */
  earlyStopPatience: number;
  /** Items used for validation at most. */
  validationItems: number;
  /** Augmentations: flips, colour jitter strength (0–0.5), synthetic occluders probability (0–1). */
  augment: { flip: boolean; jitter: number; occluders: number };
  seed: number;
  /** Optional perceptual term through a frozen feature network (ONNX) the user provides. */
  perceptual?: PerceptualLossParams;
  /** Optional PatchGAN adversarial term; a discriminator is trained in alternation with the student. */
  adversarial?: AdversarialLossParams;
}

/**
 * The perceptual loss: `weight · Σ mean|φ(student) − φ(target)|` (or squared) over the named feature maps of a frozen
 * ONNX network. The network is given as a file `path` when a run is started; the studio stores it in the blob store
 * and the queued run carries its `modelSha256` instead, so a resumed run uses the same network.
 */
export interface PerceptualLossParams {
  /** sha256 of the feature network in the blob store. */
  modelSha256?: string;
  /** Path of the ONNX file to store (only before the run is queued). */
  path?: string;
  /** Values of the network compared: graph outputs or any value a node produces (e.g. `relu2_2`). */
  outputs: string[];
  weight: number;
  distance: 'l1' | 'l2';
  /** The input the network expects: images in [0, 1] are mapped to [range[0], range[1]], then `(x − mean) / std` per channel. */
  range: [number, number];
  mean: [number, number, number];
  std: [number, number, number];
}

/** The PatchGAN adversarial loss (least squares), weighted into the student's loss. */
export interface AdversarialLossParams {
  weight: number;
  /** Channels of the discriminator's first layer (the second has twice as many). */
  discriminatorWidth: number;
}

/** What a `student-train` job returns. */
export interface StudentTrainResult {
  runId: number;
  steps: number;
  provider: string;
  stoppedEarly: boolean;
  best: { step: number; l1: number; psnr: number; ssim: number } | null;
  /** The final checkpoint's blob sha. */
  checkpointSha: string;
}
