// The device check's probe model: a small conv + matmul net made by the graph builder, weights baked in.
import { Graph } from '../graph/index.ts';

/** Input name of the probe model. */
export const PROBE_INPUT = 'image';
/** Output name of the probe model. */
export const PROBE_OUTPUT = 'logits';
/** Input shape of the probe model (one small RGB image). */
export const PROBE_INPUT_SHAPE: readonly number[] = [1, 3, 64, 64];

/**
 * Builds the probe model: conv3×3 → ReLU → depthwise conv stride 2 → ReLU → 1×1 conv → global mean → matmul.
 * It touches the op kinds training and inference lean on (dense, depthwise and pointwise conv, reductions, GEMM).
 */
export function buildProbeModel(): Uint8Array {
  const g = new Graph('device-probe', { seed: 7 });
  const x = g.input(PROBE_INPUT, 'float32', PROBE_INPUT_SHAPE);
  const c1 = g.relu(g.conv(x, g.param('c1.weight', [16, 3, 3, 3], 'he'), g.param('c1.bias', [16], 'zeros'), { pads: 1 }));
  const dw = g.relu(
    g.conv(c1, g.param('dw.weight', [16, 1, 3, 3], 'he'), g.param('dw.bias', [16], 'zeros'), { strides: 2, pads: 1, group: 16 }),
  );
  const pw = g.relu(g.conv(dw, g.param('pw.weight', [32, 16, 1, 1], 'he'), g.param('pw.bias', [32], 'zeros')));
  const pooled = g.reduceMean(pw, { axes: [2, 3], keepdims: false });
  const logits = g.matmul(pooled, g.param('fc.weight', [32, 10], 'xavier'));
  g.output(PROBE_OUTPUT, logits);
  return g.toModelBytes({ params: 'initializers' });
}
