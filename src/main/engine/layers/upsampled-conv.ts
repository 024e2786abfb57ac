// 3×3 convolutions of nearest-×2-upsampled maps without the upsampled map's im2col: sub-pixel phase kernels at the low resolution.
import type { Graph, Tensor } from '../graph/index.ts';

/**
 * `PHASE_TAPS[p][r][a]` = 1 when tap `a − 1` of a 3×3 kernel on the upsampled grid, at output phase `p` (row or
 * column parity), reads low-resolution offset `r − 1`: upsampled index `2y + p + a − 1` is low-resolution
 * `y + ⌊(p + a − 1) / 2⌋`.
 */
const PHASE_TAPS = [
  [
    [1, 0, 0],
    [0, 1, 1],
    [0, 0, 0],
  ],
  [
    [0, 0, 0],
    [1, 1, 0],
    [0, 0, 1],
  ],
] as const;

/** Options of the upsampled convolutions. */
export interface UpsampledConvOptions {
  /** Groups of the convolution (1: dense; the channel count: depthwise). */
  group?: number;
  /**
   * A per-pixel function of the result (activations, 1×1 convs) applied before the phases are interleaved: the
   * same numbers, but the interleave then moves the function's channels (fewer, after a 1×1 projection) and an
   * activation fuses with the conv. It receives and must return `[N, C, k·H, W']` maps (phase-major rows).
   */
  pixelwise?: (t: Tensor) => Tensor;
}

/**
 * `conv(resize(x, nearest ×2), w, b)` with stride 1 and padding 1 (`w`: `[M, C/group, 3, 3]`), written with the
 * sub-pixel phases' kernels (`P_py · w`, and `· P_pxᵀ` for columns) stacked output-channel-major, so every group
 * keeps its own outputs. The same numbers without the k²-times larger im2col of the upsampled map:
 * - few outputs (M < C/2, e.g. an RGB head): all four phases in one conv at the low resolution, then DepthToSpace
 *   (CRD); ORT interleaves columns element by element, which costs per output channel;
 * - otherwise: only the rows are phased; columns are doubled first (a cheap outer product) and the two row phases
 *   are interleaved by a Transpose that moves whole rows.
 */
export function upsampledConv3x3(g: Graph, x: Tensor, w: Tensor, b: Tensor | null = null, opts: UpsampledConvOptions = {}): Tensor {
  const group = opts.group ?? 1;
  const [m, cg, kh, kw] = w.shape as [number, number, number, number];
  if (w.rank !== 4 || kh !== 3 || kw !== 3 || x.rank !== 4 || cg * group !== x.shape[1] || m % group !== 0) {
    throw new Error(`upsampledConv3x3: weight [${w.shape.join(', ')}] is not [M, ${x.shape[1]! / group}, 3, 3] for ${group} group(s)`);
  }
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const allPhases = m * 2 < c;
  const rowTaps = PHASE_TAPS.map((p) => g.constant(p.flat(), [3, 3]));
  const colTaps = allPhases ? PHASE_TAPS.map((p) => g.constant([0, 1, 2].flatMap((a) => [0, 1, 2].map((r) => p[r]![a]!)), [3, 3])) : [];
  const kernels: Tensor[] = [];
  for (const py of [0, 1]) {
    const rows = g.matmul(rowTaps[py]!, w); // [M, Cg, r, b]
    for (const k of allPhases ? colTaps.map((taps) => g.matmul(rows, taps)) : [rows]) kernels.push(g.reshape(k, [m, 1, cg, 3, 3]));
  }
  const phases = kernels.length;
  const kernel = g.reshape(g.concat(kernels, 1), [m * phases, cg, 3, 3]);
  const bias = b === null ? null : g.reshape(g.expand(g.reshape(b, [m, 1]), [m, phases]), [m * phases]);
  // Columns doubled by an outer product with [1, 1]: ORT runs a MatMul on all threads, a Resize on one.
  const source = allPhases ? x : g.reshape(g.matmul(g.reshape(x, [n, c, h, wd, 1]), g.constant([1, 1], [1, 2])), [n, c, h, wd * 2]);
  const y = g.conv(source, kernel, bias, { pads: 1, group }); // channel (m, phase)
  const [, , yh, yw] = y.shape as [number, number, number, number];
  let out = y;
  let channels = m;
  if (opts.pixelwise) {
    const planes = g.reshape(y, [n, m, phases * yh, yw]);
    out = opts.pixelwise(planes);
    const [on, oc, oh, ow] = out.shape;
    if (out.rank !== 4 || on !== n || oh !== phases * yh || ow !== yw) {
      throw new Error(`upsampledConv3x3: pixelwise must keep [${n}, C, ${phases * yh}, ${yw}], returned [${out.shape.join(', ')}]`);
    }
    channels = oc!;
  }
  if (allPhases) return g.depthToSpace(out === y ? y : g.reshape(out, [n, channels * 4, h, wd]), 2, 'CRD');
  return g.reshape(g.transpose(g.reshape(out, [n, channels, 2, h, wd * 2]), [0, 1, 3, 2, 4]), [n, channels, h * 2, wd * 2]);
}

/**
 * `conv(concat([resize(low, nearest ×2), high], 1), w, b)`, 3×3, stride 1, padding 1: the upsampled part through
 * {@link upsampledConv3x3}. A dense conv splits `w` by input channels and adds the two parts; a depthwise conv
 * splits it (and `b`) by channels and concatenates them. Other group counts take the plain form.
 */
export function upsampledConcatConv3x3(g: Graph, low: Tensor, high: Tensor, w: Tensor, b: Tensor | null, opts: UpsampledConvOptions = {}): Tensor {
  const group = opts.group ?? 1;
  const cl = low.shape[1]!;
  const ch = high.shape[1]!;
  if (group === 1) {
    const [wl, wh] = g.split(w, [cl, ch], 1);
    return g.add(upsampledConv3x3(g, low, wl!), g.conv(high, wh!, b, { pads: 1 }));
  }
  if (group === cl + ch && w.shape[0] === group) {
    const [wl, wh] = g.split(w, [cl, ch], 0);
    const [bl, bh] = b === null ? [null, null] : g.split(b, [cl, ch], 0);
    return g.concat([upsampledConv3x3(g, low, wl!, bl ?? null, { group: cl }), g.conv(high, wh!, bh ?? null, { pads: 1, group: ch })], 1);
  }
  const up = g.resize(low, { scales: [1, 1, 2, 2], mode: 'nearest' });
  return g.conv(g.concat([up, high], 1), w, b, { pads: 1, group });
}
