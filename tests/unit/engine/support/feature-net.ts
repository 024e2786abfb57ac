// Small VGG-like feature networks built with the studio's own builder and written to ONNX bytes (test fixtures).
import { Graph, type Tensor } from '../../../../src/main/engine/graph/index.ts';
import { floatAttr, intAttr } from '../../../../src/main/engine/graph/types.ts';

/** Names of the feature maps {@link tinyVggOnnx} exposes. */
export const VGG_OUTPUTS = ['relu1_1', 'relu2_1', 'mix'] as const;

/**
 * A VGG-like network on `[batch,3,size,size]`: conv3×3+ReLU (`relu1_1`), conv3×3+Clip, 2×2 max pool,
 * conv3×3+ReLU (`relu2_1`), 2×2 average pool, affine Add/Mul/Sub/Div, nearest ×2 resize and a channel concat (`mix`).
 * Weights are baked in as initializers.
 */
export function tinyVggOnnx(size: number, batch = 1, seed = 5): Uint8Array {
  const g = new Graph('tiny-vgg', { seed });
  const x = g.input('image', 'float32', [batch, 3, size, size]);
  const conv = (name: string, t: Tensor, cout: number): Tensor =>
    g.conv(t, g.param(`${name}.weight`, [cout, t.shape[1]!, 3, 3], 'he'), g.param(`${name}.bias`, [cout], { kind: 'normal', std: 0.1 }), { pads: 1, name });
  const r11 = g.relu(conv('conv1_1', x, 8));
  const c12 = g.clip(conv('conv1_2', r11, 8), 0, 6);
  const p1 = g.maxPool(c12, { kernel: 2 });
  const r21 = g.relu(conv('conv2_1', p1, 12));
  const a = g.averagePool(r21, { kernel: 2 });
  const affine = g.div(g.sub(g.mul(g.add(a, 0.5), 2), 0.25), 3);
  const mix = g.concat([g.resize(affine, { scales: [1, 1, 2, 2], mode: 'nearest' }), r21], 1);
  g.output('relu1_1', r11);
  g.output('relu2_1', r21);
  g.output('mix', mix);
  return g.toModelBytes({ params: 'initializers' });
}

/**
 * A classifier-style head on `[batch,3,size,size]` (fixed batch): conv, inference BatchNormalization, LeakyReLU,
 * GlobalAveragePool, Flatten, Gemm (transB) and a Reshape with a 0 entry, so the importer's other ops are exercised.
 */
export function tinyHeadOnnx(size: number, batch: number, seed = 6): Uint8Array {
  const g = new Graph('tiny-head', { seed });
  const x = g.input('image', 'float32', [batch, 3, size, size]);
  const c = g.conv(x, g.param('conv.weight', [4, 3, 3, 3], 'he'), null, { pads: 1, strides: 2 });
  const stat = (name: string, values: number[]): Tensor => g.constant(values, [4], 'float32', name);
  const bn = g.addNode(
    'BatchNormalization',
    [c, stat('bn.scale', [1, 0.5, 2, -1]), stat('bn.bias', [0.1, 0, -0.2, 0.3]), stat('bn.mean', [0.2, -0.1, 0, 0.5]), stat('bn.var', [1, 2, 0.5, 0.25])],
    [{ dtype: 'float32', shape: c.shape }],
    { epsilon: floatAttr(1e-3) },
    'bn',
  )[0]!;
  const act = g.leakyRelu(bn, 0.1);
  const pooled = g.addNode('GlobalAveragePool', [act], [{ dtype: 'float32', shape: [batch, 4, 1, 1] }], {}, 'gap')[0]!;
  const flat = g.addNode('Flatten', [pooled], [{ dtype: 'float32', shape: [batch, 4] }], { axis: intAttr(1) }, 'flatten')[0]!;
  const logits = g.gemm(flat, g.param('fc.weight', [5, 4], 'xavier'), g.param('fc.bias', [5], { kind: 'normal', std: 0.1 }), { transB: true });
  const shaped = g.addNode('Reshape', [logits, g.int64s([0, 5, 1])], [{ dtype: 'float32', shape: [batch, 5, 1] }], {}, 'reshape0')[0]!;
  g.output('logits', shaped);
  return g.toModelBytes({ params: 'initializers' });
}

/** A network with a `Sign` node (no gradient, and missing from GPU EPs) between two convs. */
export function signNetOnnx(size: number): Uint8Array {
  const g = new Graph('with-sign', { seed: 1 });
  const x = g.input('image', 'float32', [1, 3, size, size]);
  const c = g.conv(x, g.param('c.weight', [4, 3, 3, 3], 'he'), null, { pads: 1 });
  const s = g.addNode('Sign', [c], [{ dtype: 'float32', shape: c.shape }], {}, 'the_sign')[0]!;
  g.output('features', g.relu(s));
  return g.toModelBytes({ params: 'initializers' });
}
