// Gradients of convolutions written GEMM-friendly: row-window and im2col weight gradients, flipped-kernel / ConvTranspose input gradients.
import type { Graph, Shape, Tensor } from '../graph/index.ts';
import { INT64_MIN } from '../graph/index.ts';
import { permute, reshapeTo } from './rule.ts';

/** Resolved hyper-parameters of a forward convolution. */
export interface ConvParams {
  readonly strides: readonly number[];
  /** ONNX layout `[begins..., ends...]`. */
  readonly pads: readonly number[];
  readonly dilations: readonly number[];
  readonly group: number;
}

/** Largest im2col (input channels × kernel elements) that an ungrouped weight gradient concatenates for one Gemm. */
const SMALL_IM2COL_ROWS = 32;

/** Every offset of a kernel, row-major (the order of the weight's spatial elements). */
export function kernelOffsets(kernel: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const k of kernel) out = out.flatMap((o) => Array.from({ length: k }, (_, i) => [...o, i]));
  return out;
}

/** Swaps the first two axes (batch and channel). Only a Reshape when either has size 1. */
function swapBatchChannel(g: Graph, t: Tensor): Tensor {
  return permute(g, t, [1, 0, ...t.shape.slice(2).map((_, i) => i + 2)]);
}

/**
 * Gradient of `y = conv(x, w)` with respect to `w`. 2-D convs with one input channel per group (depthwise) and dense
 * 2-D convs with a small im2col build no copy per kernel offset (windowWeightGrad, smallIm2colWeightGrad); a 1×1
 * conv is a MatMul per image. The rest is im2col + GEMM: the input is put channel-first, padded, and cut into k²
 * strided Slices (one per kernel offset); each Slice `[C, N·Ho·Wo]` times the output gradient `[M, N·Ho·Wo]` gives
 * the weight gradient at that offset. Other grouped convs concatenate the Slices into `[G, Cg·k², N·Ho·Wo]` for one
 * batched MatMul (per-offset batched products measured slower there).
 */
export function convWeightGrad(g: Graph, x: Tensor, gy: Tensor, wShape: Shape, p: ConvParams): Tensor {
  const nsp = x.rank - 2;
  const n = x.shape[0]!;
  const c = x.shape[1]!;
  const m = wShape[0]!;
  const cg = wShape[1]!;
  const kernel = wShape.slice(2);
  const outSp = gy.shape.slice(2);
  const groups = p.group;
  const mg = m / groups;
  const kk = kernel.reduce((a, b) => a * b, 1);
  const np = n * outSp.reduce((a, b) => a * b, 1);

  if (groups === 1 && kk === 1 && n > 1 && p.strides.every((s) => s === 1) && p.pads.every((v) => v === 0)) {
    // A 1×1 conv: per image gy [M, P] · xᵀ [P, C], summed over the batch. The transpose folds into the MatMul
    // (ORT's FusedMatMul), so neither activation is copied channel-first.
    const sp = outSp.reduce((a, b) => a * b, 1);
    const perImage = g.matmul(reshapeTo(g, gy, [n, m, sp]), g.transpose(reshapeTo(g, x, [n, c, sp]), [0, 2, 1]));
    return reshapeTo(g, g.reduceSum(perImage, { axes: [0], keepdims: false }), wShape);
  }
  if (cg === 1 && nsp === 2) return windowWeightGrad(g, x, gy, wShape, p);
  if (groups === 1 && nsp === 2 && kk > 1 && c * kk <= SMALL_IM2COL_ROWS) return smallIm2colWeightGrad(g, x, gy, wShape, p);
  const xt = swapBatchChannel(g, x); // [C, N, ...spatial]
  // Only the rows/cols a kernel offset can reach are needed: the end pad is k + s·(Ho−1) − H − p, clamped at 0.
  const endNeed = outSp.map(
    (ho, i) => p.dilations[i]! * (kernel[i]! - 1) + p.strides[i]! * (ho - 1) + 1 - x.shape[i + 2]! - p.pads[i]!,
  );
  const pads = [0, 0, ...p.pads.slice(0, nsp), 0, 0, ...endNeed.map((e) => Math.max(0, e))];
  const xp = pads.some((v) => v !== 0) ? g.pad(xt, pads) : xt;

  const trivial = kk === 1 && p.strides.every((s) => s === 1) && xp.shape.every((d, i) => d === (i < 2 ? xt.shape[i] : outSp[i - 2]));
  const gyt = swapBatchChannel(g, gy); // [M, N, ...out]
  const axes = outSp.map((_, i) => i + 2);
  // Strided convs cut the input into stride-phase planes once (strided Slices copy element by element), so that
  // every kernel offset is a unit-stride Slice of one plane (whole rows copied).
  const planes = new Map<string, Tensor>();
  const plane = (phase: number[]): Tensor => {
    const key = phase.join(',');
    if (!planes.has(key)) planes.set(key, g.slice(xp, { starts: phase, ends: axes.map((a) => xp.shape[a]!), axes, steps: p.strides }));
    return planes.get(key)!;
  };
  const isStrided = p.strides.some((s) => s !== 1);
  const slices = trivial
    ? [xp]
    : kernelOffsets(kernel).map((o) => {
        const starts = o.map((v, i) => v * p.dilations[i]!);
        if (!isStrided) return g.slice(xp, { starts, ends: starts.map((s, i) => s + outSp[i]!), axes });
        const from = plane(starts.map((s, i) => s % p.strides[i]!));
        const begin = starts.map((s, i) => Math.floor(s / p.strides[i]!));
        const whole = begin.every((b, i) => b === 0 && from.shape[i + 2] === outSp[i]);
        return whole ? from : g.slice(from, { starts: begin, ends: begin.map((b, i) => b + outSp[i]!), axes });
      });
  if (groups === 1 && slices.length > 1 && c * kk <= SMALL_IM2COL_ROWS) {
    // Few input channels in a 1-D or 3-D conv: one Gemm over the small im2col beats k² Gemms of tiny outputs.
    const cols = reshapeTo(g, g.concat(slices, 0), [kk * c, np]); // offset-major rows
    const gw = g.gemm(reshapeTo(g, gyt, [m, np]), cols, null, { transB: true }); // [M, k²·C]
    return reshapeTo(g, permute(g, reshapeTo(g, gw, [m, kk, c]), [0, 2, 1]), wShape);
  }
  if (groups === 1) {
    // One Gemm per kernel offset, stacked on the last axis: the k²-times-larger im2col matrix is never
    // concatenated (writing and reading it again cost more than the k² small launches).
    const gy2 = reshapeTo(g, gyt, [m, np]);
    const perOffset = slices.map((piece) => reshapeTo(g, g.gemm(gy2, reshapeTo(g, piece, [c, np]), null, { transB: true }), [m, c, 1]));
    return reshapeTo(g, perOffset.length === 1 ? perOffset[0]! : g.concat(perOffset, 2), wShape);
  }
  // Concat on axis 1 of [C, N, ...] pieces gives [C, k²·N, ...] = [C, k², N·P] in memory: c-major, then offset.
  const cols = slices.length === 1 ? slices[0]! : g.concat(slices, 1);
  const cols3 = reshapeTo(g, cols, [groups, cg * kk, np]);
  if (mg === 1) {
    // Depthwise (one output per group): a batched matrix–vector product, no transpose of the big operand.
    return reshapeTo(g, g.matmul(cols3, reshapeTo(g, gyt, [groups, np, 1])), wShape);
  }
  const gy3t = permute(g, reshapeTo(g, gyt, [groups, mg, np]), [0, 2, 1]);
  const gw = g.matmul(cols3, gy3t); // [G, Cg·k², Mg]
  return reshapeTo(g, permute(g, gw, [0, 2, 1]), wShape);
}

/** Sizes of a 2-D conv's weight gradient; `reach`: the kernel's column extent − 1, `pl`: the left padding. */
function windowSizes(x: Tensor, gy: Tensor, wShape: Shape, p: ConvParams) {
  const [n, c, , w] = x.shape as [number, number, number, number];
  const [m, , kh, kw] = wShape as [number, number, number, number];
  const [, , ho, wo] = gy.shape as [number, number, number, number];
  const [, sw] = p.strides as [number, number];
  const [, dw] = p.dilations as [number, number];
  return { n, c, w, m, kh, kw, ho, wo, sw, dw, reach: dw * (kw - 1), pl: p.pads[1]! };
}

/**
 * The k_h row windows that a 2-D conv's kernel rows read, `[N, C, k_h, Ho, W]`, in one Gather: window i, row r is
 * input row `s·r + d·i − pad_top`, and a row outside the input (the padding) reads one appended zero row. Columns
 * are not padded: the consumers' Convs zero-fill them (a Pad copies on one thread).
 */
function rowWindows(g: Graph, x: Tensor, p: ConvParams, kh: number, ho: number): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [sh] = p.strides as [number, number];
  const [dh] = p.dilations as [number, number];
  const [pt] = p.pads as [number, number];
  const rows = Array.from({ length: kh }, (_, i) => Array.from({ length: ho }, (_, r) => sh * r + dh * i - pt)).flat();
  if (rows.every((r) => r >= 0 && r < h)) return g.gather(x, rows, [kh, ho], 2);
  const withZeroRow = g.concat([x, g.expand(g.scalar(0), [n, c, 1, w])], 2);
  return g.gather(withZeroRow, rows.map((r) => (r >= 0 && r < h ? r : h)), [kh, ho], 2);
}

/** One-hot 1×(reach+1) kernels, one per tap for each of `groups` groups: output `(group, t)` copies its input at column offset `taps[t]`. */
function columnShiftKernel(g: Graph, groups: number, taps: readonly number[], reach: number): Tensor {
  const values = Array.from({ length: groups }, () => taps.map((tap) => Array.from({ length: reach + 1 }, (_, t) => (t === tap ? 1 : 0)))).flat(2);
  return g.constant(values, [groups * taps.length, 1, 1, reach + 1]);
}

/**
 * The weight gradient of a dense 2-D conv whose im2col is small (at most 32 rows: an RGB stem), built without a
 * copy per kernel offset: the row windows (one Gather), then their k_w column windows at the column stride (one
 * grouped Conv with one-hot 1×k kernels), rows ordered like the weight's `(c, i, j)`. One MatMul per image with the
 * output gradient, summed over the batch; no channel-first copies.
 */
function smallIm2colWeightGrad(g: Graph, x: Tensor, gy: Tensor, wShape: Shape, p: ConvParams): Tensor {
  const { n, c, w, m, kh, kw, ho, wo, sw, dw, reach, pl } = windowSizes(x, gy, wShape, p);
  const windows = reshapeTo(g, rowWindows(g, x, p, kh, ho), [n, c * kh, ho, w]);
  // Padded right up to the last column the kernel reaches (the output size's floor never needs more than that).
  const right = Math.max(0, sw * (wo - 1) + 1 + reach - w - pl);
  const kernel = columnShiftKernel(g, c * kh, Array.from({ length: kw }, (_, j) => dw * j), reach);
  const cols = g.conv(windows, kernel, null, { pads: [0, pl, 0, right], strides: [1, sw], group: c * kh }); // [N, C·kh·kw, Ho, Wo]
  const rowsOfCols = reshapeTo(g, cols, [n, c * kh * kw, ho * wo]);
  const perImage = g.matmul(reshapeTo(g, gy, [n, m, ho * wo]), permute(g, rowsOfCols, [0, 2, 1])); // [N, M, C·kh·kw]
  return reshapeTo(g, g.reduceSum(perImage, { axes: [0], keepdims: false }), wShape);
}

/**
 * The weight gradient of a 2-D conv with one input channel per group (depthwise, or a channel multiplier), without
 * an im2col or channel-first copies. Per image and channel the k_h×k_w gradient is the products of k_h row windows
 * of the input with k_w zero-filled column shifts of the output gradient, both Ho×W planes:
 *   dW[m, i, j] = Σₙ Σ_t rows_i(x)[t] · shift_j(ĝ_m)[t],   t over Ho·W.
 * One Gather stacks the row windows (a row stride costs nothing, see rowWindows); a column stride is handled by
 * zero-stuffing the output gradient (`ĝ[s·wo] = gy[wo]`, zeros between), which keeps every copy contiguous. One
 * grouped Conv makes the k_w·Mg gradient shifts (and the column padding), and one MatMul multiplies each, as one
 * row, with the stack (one-row products are ORT's fast case; two or more rows per batch measured 3–4× slower).
 * Every op that copies a whole map runs on all of ORT's threads (its Pad and Slice run on one).
 */
function windowWeightGrad(g: Graph, x: Tensor, gy: Tensor, wShape: Shape, p: ConvParams): Tensor {
  const { n, c, w, m, kh, kw, ho, wo, sw, dw, reach, pl } = windowSizes(x, gy, wShape, p);
  const mg = m / c;
  const flat = ho * w;
  const stack = rowWindows(g, x, p, kh, ho); // [N, C, kh, Ho, W]

  // Output gradient: zero-stuffed for a column stride, then its k_w column shifts aligned with the input's columns,
  // zero-filled to its width W: shift j at column u holds ĝ[u + pad_left − d·j], one grouped Conv with one-hot 1×k
  // kernels. Columns that pair with no input column (left of a padding beyond the kernel, right of the input) are cut.
  let gz = gy;
  if (sw > 1) {
    // An outer product with [1, 0, …]: on ORT's CPU provider about 4× faster than a broadcast Mul, 6× than a Pad.
    const comb = g.constant([1, ...new Array<number>(sw - 1).fill(0)], [1, sw]);
    gz = reshapeTo(g, g.matmul(reshapeTo(g, gy, [n, m, ho, wo, 1]), comb), [n, m, ho, wo * sw]);
  }
  const skip = Math.max(0, pl - reach);
  const keep = Math.min(gz.shape[3]!, w + pl) - skip;
  if (skip > 0 || keep < gz.shape[3]!) gz = g.slice(gz, { starts: [skip], ends: [skip + keep], axes: [3] });
  const left = reach - pl + skip;
  // The shift that moves nothing (stride 1, j = pad_left/d) is the output gradient itself: not copied.
  const unmoved = sw === 1 && skip === 0 && keep === w && pl % dw === 0 && pl / dw < kw ? pl / dw : -1;
  const moved = Array.from({ length: kw }, (_, j) => j).filter((j) => j !== unmoved);
  const stackT = permute(g, reshapeTo(g, stack, [n, c, 1, kh, flat]), [0, 1, 2, 4, 3]);
  // Each shift row times the stack, broadcast over the rows: one MatMul of one-row products, [N, C, Mg·k, 1, kh].
  const rowProducts = (rows: Tensor, k: number): Tensor => reshapeTo(g, g.matmul(reshapeTo(g, rows, [n, c, mg * k, 1, flat]), stackT), [n, c, mg, k, kh]);
  const shifted = moved.length === 0 ? null : rowProducts(g.conv(gz, columnShiftKernel(g, m, moved.map((j) => reach - dw * j), reach), null, {
    pads: [0, left, 0, w + reach - left - keep],
    group: m,
  }), moved.length); // [N, C, Mg, moved, kh]
  const parts: Tensor[] = [];
  if (unmoved > 0) parts.push(g.slice(shifted!, { starts: [0], ends: [unmoved], axes: [3] }));
  if (unmoved >= 0) parts.push(rowProducts(gz, 1));
  if (unmoved < kw - 1 && shifted) parts.push(unmoved < 0 ? shifted : g.slice(shifted, { starts: [unmoved], ends: [kw - 1], axes: [3] }));
  const products = parts.length === 1 ? parts[0]! : g.concat(parts, 3); // [N, C, Mg, kw, kh]
  const summed = g.reduceSum(products, { axes: [0], keepdims: false }); // [C, Mg, kw, kh]
  return reshapeTo(g, permute(g, reshapeTo(g, summed, [c, mg, kw, kh]), [0, 1, 3, 2]), wShape);
}

/**
 * Gradient of `y = conv(x, w)` with respect to `x`. Stride 1: a Conv of the output gradient with the flipped,
 * in/out-transposed kernel (cropping where the forward padding exceeds the kernel extent). Strided: a ConvTranspose
 * with the forward weight unchanged and `output_padding` for sizes the forward conv's floor lost.
 */
export function convInputGrad(g: Graph, gy: Tensor, w: Tensor, xShape: Shape, p: ConvParams): Tensor {
  const nsp = xShape.length - 2;
  const kernel = w.shape.slice(2);
  const spatial = xShape.slice(2);
  if (p.strides.some((s) => s !== 1)) {
    const outputPadding = spatial.map((h, i) => {
      const ext = p.dilations[i]! * (kernel[i]! - 1) + 1;
      return (h + p.pads[i]! + p.pads[i + nsp]! - ext) % p.strides[i]!;
    });
    return g.convTranspose(gy, w, null, {
      strides: p.strides,
      pads: p.pads,
      dilations: p.dilations,
      group: p.group,
      outputPadding,
    });
  }
  const m = w.shape[0]!;
  const cg = w.shape[1]!;
  const groups = p.group;
  const mg = m / groups;
  // [M, Cg, k…] → [G, Mg, Cg, k…] → [G, Cg, Mg, k…] → [C, Mg, k…] (a Reshape when Mg or Cg is 1).
  const w5 = reshapeTo(g, w, [groups, mg, cg, ...kernel]);
  const wt = reshapeTo(g, permute(g, w5, [0, 2, 1, ...kernel.map((_, i) => i + 3)]), [groups * cg, mg, ...kernel]);
  const flipAxes = kernel.map((_, i) => i + 2).filter((a) => wt.shape[a]! > 1);
  const wf = flipAxes.length
    ? g.slice(wt, {
        starts: flipAxes.map(() => -1),
        ends: flipAxes.map(() => INT64_MIN),
        axes: flipAxes,
        steps: flipAxes.map(() => -1),
      })
    : wt;
  const ext = kernel.map((k, i) => p.dilations[i]! * (k - 1));
  const qb = ext.map((e, i) => e - p.pads[i]!);
  const qe = ext.map((e, i) => e - p.pads[i + nsp]!);
  let src = gy;
  if (qb.some((q) => q < 0) || qe.some((q) => q < 0)) {
    // Forward padding beyond the kernel extent produced outputs that never saw x: drop them.
    const axes = spatial.map((_, i) => i + 2);
    src = g.slice(gy, {
      starts: qb.map((q) => Math.max(0, -q)),
      ends: qe.map((q, i) => gy.shape[i + 2]! - Math.max(0, -q)),
      axes,
    });
  }
  const pads = [...qb, ...qe].map((q) => Math.max(0, q));
  return g.conv(src, wf, null, { pads, dilations: p.dilations, group: groups });
}

/** Sum of the output gradient over every axis but the channel: the bias gradient. */
export function biasGrad(g: Graph, gy: Tensor): Tensor {
  return g.reduceSum(gy, { axes: [0, ...gy.shape.slice(2).map((_, i) => i + 2)], keepdims: false });
}
