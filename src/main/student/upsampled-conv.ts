// A 3×3 convolution of a nearest-×2-upsampled map, computed at the low resolution: one conv for the four sub-pixel phases, then DepthToSpace.
import type { Graph, Tensor } from '../engine/graph/index.ts';

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

/**
 * `conv(resize(x, nearest ×2), w)` with stride 1 and padding 1 (`w`: `[M, C, 3, 3]`), written as one conv of `x`
 * at its own resolution with the four phases' kernels (`P_py · w · P_pxᵀ`, stacked to `[4M, C, 3, 3]`) and a
 * DepthToSpace, whose DCR channel order `(py·2 + px)·M + m` is the stacking order. The same numbers for a quarter of
 * the pixels: the upsampled map and its k²-times larger im2col are never built, in the forward or the backward pass.
 */
export function upsampledConv3x3(g: Graph, x: Tensor, w: Tensor): Tensor {
  if (w.rank !== 4 || w.shape[2] !== 3 || w.shape[3] !== 3 || w.shape[1] !== x.shape[1]) {
    throw new Error(`upsampledConv3x3: weight [${w.shape.join(', ')}] is not [M, ${x.shape[1]}, 3, 3]`);
  }
  const taps = PHASE_TAPS.map((p) => g.constant(p.flat(), [3, 3]));
  const tapsT = PHASE_TAPS.map((p) => g.constant([0, 1, 2].flatMap((a) => [0, 1, 2].map((r) => p[r]![a]!)), [3, 3]));
  const phases: Tensor[] = [];
  for (const py of [0, 1]) {
    const rows = g.matmul(taps[py]!, w); // [M, C, r, b]
    for (const px of [0, 1]) phases.push(g.matmul(rows, tapsT[px]!)); // [M, C, r, s]
  }
  const y = g.conv(x, g.concat(phases, 0), null, { pads: 1 });
  return g.depthToSpace(y, 2, 'DCR');
}
