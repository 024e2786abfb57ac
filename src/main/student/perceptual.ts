// The student's perceptual term: a frozen ONNX feature network applied to the output and the target in one batch.
import { readFile, stat } from 'node:fs/promises';
import { gradients } from '../engine/autodiff/index.ts';
import { Graph, importOnnxGraph, OnnxImportError, readOnnxModel, type OnnxModelFile, type Tensor } from '../engine/graph/index.ts';
import { featureLoss } from '../engine/losses/index.ts';
import { LOSS_LIMITS } from '../../shared/student/config.ts';
import type { PerceptualLossParams } from '../../shared/student/types.ts';
import type { BlobStore } from '../core/blob-store.ts';
import { StudentConfigError } from './model.ts';

/** Blob kind of stored feature networks. */
export const FEATURE_NETWORK_KIND = 'feature-network';
/** Largest feature network file the studio reads (bytes). */
export const MAX_FEATURE_NETWORK_BYTES = 1024 * 1024 * 1024;
/** Prefix of every node and constant the feature network adds to a training graph. */
const PREFIX = 'perceptual/';

/** Checks the perceptual settings' ranges (not the network); throws {@link StudentConfigError} naming the field. */
export function validatePerceptualParams(p: PerceptualLossParams): PerceptualLossParams {
  const fail = (why: string): never => {
    throw new StudentConfigError(`perceptual ${why}`);
  };
  const L = LOSS_LIMITS;
  if (!Number.isFinite(p.weight) || p.weight <= L.perceptualWeight.min || p.weight > L.perceptualWeight.max) {
    fail(`weight ${p.weight} must be above ${L.perceptualWeight.min} and at most ${L.perceptualWeight.max}`);
  }
  if (p.distance !== 'l1' && p.distance !== 'l2') fail(`distance ${JSON.stringify(p.distance)} must be "l1" or "l2"`);
  if (!Array.isArray(p.outputs) || p.outputs.length < L.perceptualOutputs.min || p.outputs.length > L.perceptualOutputs.max) {
    fail(`outputs must name ${L.perceptualOutputs.min} to ${L.perceptualOutputs.max} feature maps`);
  }
  if (p.outputs.some((o) => typeof o !== 'string' || o.length === 0) || new Set(p.outputs).size !== p.outputs.length) {
    fail('outputs must be distinct, non-empty names');
  }
  const inRange = (v: number): boolean => Number.isFinite(v) && v >= L.normalisation.min && v <= L.normalisation.max;
  if (p.range.length !== 2 || !p.range.every(inRange) || !(p.range[0] < p.range[1])) fail(`range [${p.range.join(', ')}] must be two numbers, low < high`);
  if (p.mean.length !== 3 || !p.mean.every(inRange)) fail(`mean [${p.mean.join(', ')}] must be three numbers`);
  if (p.std.length !== 3 || !p.std.every((v) => inRange(v) && v > 0)) fail(`std [${p.std.join(', ')}] must be three positive numbers`);
  if ((p.modelSha256 === undefined) === (p.path === undefined)) fail('needs exactly one of modelSha256 and path');
  if (p.modelSha256 !== undefined && !/^[0-9a-f]{64}$/.test(p.modelSha256)) fail(`modelSha256 ${JSON.stringify(p.modelSha256)} is not a sha256`);
  return p;
}

/** Maps student images in [0, 1] to the network's input: `(lo + (hi − lo)·x − mean) / std` per channel. */
function normalise(g: Graph, x: Tensor, p: PerceptualLossParams): Tensor {
  const [lo, hi] = p.range;
  const scale = p.std.map((s) => (hi - lo) / s);
  const shift = p.std.map((s, c) => (lo - p.mean[c]!) / s);
  return g.scope(`${PREFIX}normalise`, () =>
    g.add(g.mul(x, g.constant(scale, [1, 3, 1, 1], 'float32', `${PREFIX}scale`)), g.constant(shift, [1, 3, 1, 1], 'float32', `${PREFIX}shift`)),
  );
}

/**
 * Adds the perceptual distance between `pred` and `target` (`[N,3,H,W]` in [0, 1]) to `g`, unweighted: both are
 * normalised, stacked into one `[2N,3,H,W]` batch, run once through the frozen network (its weights are constants),
 * split again, and compared map by map with {@link featureLoss}.
 */
export function perceptualDistance(g: Graph, model: OnnxModelFile, p: PerceptualLossParams, pred: Tensor, target: Tensor): Tensor {
  const n = pred.shape[0]!;
  const both = normalise(g, g.concat([pred, target], 0, `${PREFIX}stack`), p);
  const features = importOnnxGraph(g, model, { input: both, outputs: p.outputs, prefix: PREFIX });
  const halves = features.map((f, i) => {
    if (f.rank === 0 || f.shape[0] !== 2 * n) {
      throw new OnnxImportError(`feature map "${p.outputs[i]}" has shape [${f.shape.join(',')}]; its first axis must be the batch (${2 * n})`);
    }
    return g.split(f, [n, n], 0, `${PREFIX}split${i}`);
  });
  return featureLoss(g, halves.map((h) => h[0]!), halves.map((h) => h[1]!), { distance: p.distance, name: 'perceptual' });
}

/**
 * Reads a feature network and checks that it can serve the perceptual loss of a `size`² student trained at `batch`:
 * every op on the path to the named outputs imports, the shapes work out and the autodiff differentiates through it.
 * Returns the decoded model; throws {@link OnnxImportError} or a graph error naming the node.
 */
export function checkFeatureNetwork(bytes: Uint8Array, p: PerceptualLossParams, size: number, batch: number): OnnxModelFile {
  const model = readOnnxModel(bytes);
  const [, , h, w] = model.input.dims;
  if ((typeof h === 'number' && h !== size) || (typeof w === 'number' && w !== size)) {
    throw new OnnxImportError(`the network's input "${model.input.name}" is fixed at ${h}×${w}; the student's images are ${size}×${size}`);
  }
  const g = new Graph('perceptual-check');
  const pred = g.input('pred', 'float32', [batch, 3, size, size]);
  const target = g.input('target', 'float32', [batch, 3, size, size]);
  gradients(g, perceptualDistance(g, model, p, pred, target), [pred]);
  return model;
}

/** Reads the run's stored feature network (by `modelSha256`) from the blob store and decodes it. */
export async function loadFeatureNetwork(blobs: BlobStore, p: PerceptualLossParams): Promise<OnnxModelFile> {
  if (p.modelSha256 === undefined) throw new StudentConfigError('perceptual: the feature network was not stored with the run (no modelSha256)');
  return readOnnxModel(await blobs.read(p.modelSha256));
}

/** Reads a feature network file the user chose; a missing, unreadable or oversized file is a {@link StudentConfigError}. */
export async function readFeatureNetworkFile(path: string): Promise<Uint8Array> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw new StudentConfigError(`perceptual: the feature network ${path} cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (size > MAX_FEATURE_NETWORK_BYTES) throw new StudentConfigError(`perceptual: the feature network ${path} is ${size} bytes, more than the ${MAX_FEATURE_NETWORK_BYTES} the studio reads`);
  return readFile(path);
}
