// The student's PatchGAN: a small conv discriminator on (input, image) pairs and its least-squares training program.
import { Graph, type Tensor } from '../engine/graph/index.ts';
import { lsganDiscriminatorLoss } from '../engine/losses/index.ts';
import { compileTrainProgram, type TrainProgram } from '../engine/train/index.ts';
import { LOSS_LIMITS } from '../../shared/student/config.ts';
import type { AdversarialLossParams, StudentTrainParams } from '../../shared/student/types.ts';
import { STUDENT_INPUT, StudentConfigError, trainingBytesOf } from './model.ts';

/** Prefix of the discriminator's parameters (in its own program and, frozen, in the student's). */
export const DISCRIMINATOR_PREFIX = 'disc.';
/** Inputs of the discriminator's program besides the student input: the real target and the student's output. */
export const REAL_INPUT = 'real';
/** The student's output of the same step, fed to the discriminator as the fake. */
export const FAKE_INPUT = 'fake';
/** Output of the discriminator program that exposes its patch scores on the fake (declared for the forward model). */
const SCORES_OUTPUT = 'scores';
/** Slope of the discriminator's leaky ReLUs (pix2pix). */
const LEAK = 0.2;

/** Checks the adversarial settings' ranges; throws {@link StudentConfigError} naming the field. */
export function validateAdversarialParams(p: AdversarialLossParams): AdversarialLossParams {
  const { adversarialWeight: w, discriminatorWidth: d } = LOSS_LIMITS;
  if (!Number.isFinite(p.weight) || p.weight <= w.min || p.weight > w.max) {
    throw new StudentConfigError(`adversarial weight ${p.weight} must be above ${w.min} and at most ${w.max}`);
  }
  if (!Number.isInteger(p.discriminatorWidth) || p.discriminatorWidth < d.min || p.discriminatorWidth > d.max) {
    throw new StudentConfigError(`adversarial discriminatorWidth ${p.discriminatorWidth} must be an integer from ${d.min} to ${d.max}`);
  }
  return p;
}

/**
 * The PatchGAN discriminator on `concat(input, image)` (6 channels): two 4×4 stride-2 convs (`width`, `2·width`
 * channels) with leaky ReLU 0.2, then a 3×3 conv to a 1-channel map of raw scores, one per 4×4-strided patch.
 * Parameters are named `disc.*` and initialised N(0, 0.02) as in pix2pix; calling it twice in one graph shares them.
 */
export function discriminatorScores(g: Graph, input: Tensor, image: Tensor, width: number): Tensor {
  const param = (name: string, shape: number[], init: 'normal' | 'zeros'): Tensor => {
    const full = `${DISCRIMINATOR_PREFIX}${name}`;
    const existing = g.params.find((p) => p.name === full);
    return existing ? existing.tensor : g.param(full, shape, init === 'zeros' ? 'zeros' : { kind: 'normal', std: 0.02 });
  };
  const conv = (name: string, x: Tensor, cout: number, k: number, stride: number): Tensor =>
    g.conv(x, param(`${name}.weight`, [cout, x.shape[1]!, k, k], 'normal'), param(`${name}.bias`, [cout], 'zeros'), {
      strides: stride,
      pads: 1,
    });
  return g.scope('disc', () => {
    let x = g.concat([input, image], 1);
    x = g.leakyRelu(conv('conv1', x, width, 4, 2), LEAK);
    x = g.leakyRelu(conv('conv2', x, 2 * width, 4, 2), LEAK);
    return conv('head', x, 1, 3, 1);
  });
}

/**
 * Training memory of the discriminator at `size`² and `batch`: each step it scores the real and the fake pair in its
 * own program and the fake once more in the student's.
 */
export function discriminatorTrainingBytes(size: number, batch: number, width: number): number {
  const g = new Graph('discriminator-estimate');
  const frame = (name: string): Tensor => g.input(name, 'float32', [1, 3, size, size]);
  discriminatorScores(g, frame(STUDENT_INPUT), frame(REAL_INPUT), width);
  return trainingBytesOf(g, batch, 3);
}

/**
 * The discriminator's training step: `½·mean((D(x, real) − 1)²) + ½·mean(D(x, fake)²)` (least squares), with its mean
 * scores on the real and fake pairs reported as `d_real` and `d_fake`. Adam with β₁ = 0.5 (pix2pix), no decay.
 */
export function compileDiscriminatorProgram(p: StudentTrainParams, adversarial: AdversarialLossParams): TrainProgram {
  const g = new Graph('discriminator', { seed: p.seed });
  const shape = [p.batch, 3, p.student.size, p.student.size];
  const input = g.input(STUDENT_INPUT, 'float32', shape);
  const real = g.input(REAL_INPUT, 'float32', shape);
  const fake = g.input(FAKE_INPUT, 'float32', shape);
  const realScores = discriminatorScores(g, input, real, adversarial.discriminatorWidth);
  const fakeScores = discriminatorScores(g, input, fake, adversarial.discriminatorWidth);
  g.output(SCORES_OUTPUT, fakeScores);
  return compileTrainProgram({
    graph: g,
    loss: lsganDiscriminatorLoss(g, realScores, fakeScores),
    terms: { d_real: g.reduceMean(realScores, { keepdims: false }), d_fake: g.reduceMean(fakeScores, { keepdims: false }) },
    forwardOutputs: [SCORES_OUTPUT],
    optimizer: { kind: 'adam', beta1: 0.5, beta2: 0.999 },
  });
}
