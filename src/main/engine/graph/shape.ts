// Build-time shape rules shared by the builder and the autodiff: broadcasting, conv/pool output sizes, axis handling.
import { fmt, type Shape } from './types.ts';

/** Error thrown while building a graph; its message names the op, the node and the shapes involved. */
export class GraphBuildError extends Error {
  override name = 'GraphBuildError';
}

/** numpy/ONNX multidirectional broadcast of shapes, or an error naming the node and both shapes. */
export function broadcastShapes(op: string, node: string, shapes: readonly Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      const v = k >= 0 ? (s[k] as number) : 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) {
        throw new GraphBuildError(
          `${op} "${node}": shapes ${shapes.map(fmt).join(' and ')} do not broadcast (axis ${i - rank}: ${d} vs ${v})`,
        );
      }
      d = v;
    }
    out.push(d);
  }
  return out;
}

/** Normalises a possibly negative axis against a rank, or throws. */
export function normAxis(op: string, node: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new GraphBuildError(`${op} "${node}": axis ${axis} is out of range for rank ${rank}`);
  }
  return a;
}

/** Spatial parameters of a conv or pool, resolved to one value per spatial axis. */
export interface Window {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** ONNX layout: all begins, then all ends. */
  readonly pads: readonly number[];
}

/** Resolves optional stride/pad/dilation options to full per-axis arrays, checking their lengths. */
export function resolveWindow(
  op: string,
  node: string,
  kernel: readonly number[],
  opts: { strides?: readonly number[] | number; pads?: readonly number[] | number; dilations?: readonly number[] | number },
): Window {
  const n = kernel.length;
  const expand = (v: readonly number[] | number | undefined, fill: number, len: number, what: string): number[] => {
    if (v === undefined) return new Array<number>(len).fill(fill);
    if (typeof v === 'number') return new Array<number>(len).fill(v);
    if (v.length === len) return [...v];
    if (what === 'pads' && v.length === n) return [...v, ...v];
    throw new GraphBuildError(`${op} "${node}": ${what} ${fmt(v)} must have ${len} values for ${n} spatial axes`);
  };
  const w: Window = {
    kernel,
    strides: expand(opts.strides, 1, n, 'strides'),
    dilations: expand(opts.dilations, 1, n, 'dilations'),
    pads: expand(opts.pads, 0, 2 * n, 'pads'),
  };
  for (const [what, vals, min] of [
    ['strides', w.strides, 1],
    ['dilations', w.dilations, 1],
    ['pads', w.pads, 0],
  ] as const) {
    if (vals.some((v) => !Number.isInteger(v) || v < min)) {
      throw new GraphBuildError(`${op} "${node}": ${what} ${fmt(vals)} must be integers ≥ ${min}`);
    }
  }
  return w;
}

/** Output spatial sizes of a conv/pool window over input spatial sizes (floor mode), or an error. */
export function windowOutput(op: string, node: string, spatial: readonly number[], w: Window): number[] {
  return spatial.map((h, i) => {
    const k = w.kernel[i] as number;
    const eff = (w.dilations[i] as number) * (k - 1) + 1;
    const padded = h + (w.pads[i] as number) + (w.pads[i + spatial.length] as number);
    if (padded < eff) {
      throw new GraphBuildError(
        `${op} "${node}": padded input size ${padded} on spatial axis ${i} is smaller than the kernel extent ${eff}`,
      );
    }
    return Math.floor((padded - eff) / (w.strides[i] as number)) + 1;
  });
}
