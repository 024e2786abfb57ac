// An independent float64 interpreter of builder graphs in plain TypeScript: the reference the ORT results are checked against.
import { sliceRange, type Graph, type Node, type Tensor } from '../../../../src/main/engine/graph/index.ts';
import { fromHalfBits } from '../../../../src/main/engine/graph/index.ts';

/** A float64 value with its shape (bools and integers are stored as numbers too). */
export interface Value {
  shape: number[];
  data: Float64Array;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Calls f with every multi-index of a shape, row-major. */
function forEachIndex(shape: readonly number[], f: (idx: number[], flat: number) => void): void {
  const n = size(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    f(idx, flat);
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
}

function broadcastShape(shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => Math.max(...shapes.map((s) => s[s.length - rank + i] ?? 1)));
}

/** Reads `v` at an output multi-index under numpy broadcasting. */
function broadcastReader(v: Value, outShape: readonly number[]): (idx: readonly number[]) => number {
  const st = strides(v.shape);
  const off = outShape.length - v.shape.length;
  return (idx) => {
    let p = 0;
    for (let a = 0; a < v.shape.length; a++) if (v.shape[a] !== 1) p += idx[a + off]! * st[a]!;
    return v.data[p]!;
  };
}

function elementwise(inputs: Value[], f: (...x: number[]) => number): Value {
  const shape = broadcastShape(inputs.map((v) => v.shape));
  const readers = inputs.map((v) => broadcastReader(v, shape));
  const out = new Float64Array(size(shape));
  forEachIndex(shape, (idx, flat) => {
    out[flat] = f(...readers.map((r) => r(idx)));
  });
  return { shape, data: out };
}

function map(v: Value, f: (x: number) => number): Value {
  return { shape: [...v.shape], data: v.data.map(f) };
}

type Attrs = Node['attrs'];
const ints = (a: Attrs, k: string, d: number[]): number[] => {
  const v = a[k];
  return v && v.type === 'ints' ? [...v.value] : d;
};
const int = (a: Attrs, k: string, d: number): number => {
  const v = a[k];
  return v && v.type === 'int' ? v.value : d;
};
const flt = (a: Attrs, k: string, d: number): number => {
  const v = a[k];
  return v && v.type === 'float' ? v.value : d;
};
const str = (a: Attrs, k: string, d: string): string => {
  const v = a[k];
  return v && v.type === 'string' ? v.value : d;
};

function matmul2(a: Float64Array, aOff: number, b: Float64Array, bOff: number, m: number, k: number, n: number, out: Float64Array, oOff: number): void {
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[aOff + i * k + t]! * b[bOff + t * n + j]!;
      out[oOff + i * n + j] = s;
    }
}

function transpose(v: Value, perm: readonly number[]): Value {
  const shape = perm.map((p) => v.shape[p]!);
  const st = strides(v.shape);
  const out = new Float64Array(v.data.length);
  forEachIndex(shape, (idx, flat) => {
    let p = 0;
    for (let a = 0; a < perm.length; a++) p += idx[a]! * st[perm[a]!]!;
    out[flat] = v.data[p]!;
  });
  return { shape, data: out };
}

interface ConvAttrs {
  strides: number[];
  pads: number[];
  dilations: number[];
  group: number;
}

function convAttrs(a: Attrs, nsp: number): ConvAttrs {
  return {
    strides: ints(a, 'strides', new Array<number>(nsp).fill(1)),
    pads: ints(a, 'pads', new Array<number>(2 * nsp).fill(0)),
    dilations: ints(a, 'dilations', new Array<number>(nsp).fill(1)),
    group: int(a, 'group', 1),
  };
}

function conv(x: Value, w: Value, b: Value | undefined, p: ConvAttrs): Value {
  const nsp = x.shape.length - 2;
  const [n, c] = x.shape as [number, number];
  const m = w.shape[0]!;
  const cg = c / p.group;
  const mg = m / p.group;
  const k = w.shape.slice(2);
  const inSp = x.shape.slice(2);
  const outSp = inSp.map((h, i) => Math.floor((h + p.pads[i]! + p.pads[i + nsp]! - p.dilations[i]! * (k[i]! - 1) - 1) / p.strides[i]!) + 1);
  const shape = [n, m, ...outSp];
  const xs = strides(x.shape);
  const ws = strides(w.shape);
  const out = new Float64Array(size(shape));
  forEachIndex(shape, (idx, flat) => {
    const [bn, om] = idx as [number, number];
    const grp = Math.floor(om / mg);
    let s = b ? b.data[om]! : 0;
    for (let ic = 0; ic < cg; ic++) {
      const ch = grp * cg + ic;
      forEachIndex(k, (kidx) => {
        let xp = bn * xs[0]! + ch * xs[1]!;
        for (let a = 0; a < nsp; a++) {
          const pos = idx[a + 2]! * p.strides[a]! - p.pads[a]! + kidx[a]! * p.dilations[a]!;
          if (pos < 0 || pos >= inSp[a]!) return;
          xp += pos * xs[a + 2]!;
        }
        let wp = om * ws[0]! + ic * ws[1]!;
        for (let a = 0; a < nsp; a++) wp += kidx[a]! * ws[a + 2]!;
        s += x.data[xp]! * w.data[wp]!;
      });
    }
    out[flat] = s;
  });
  return { shape, data: out };
}

function convTranspose(x: Value, w: Value, b: Value | undefined, p: ConvAttrs, outputPadding: number[]): Value {
  const nsp = x.shape.length - 2;
  const [n, c] = x.shape as [number, number];
  const mg = w.shape[1]!;
  const m = mg * p.group;
  const cg = c / p.group;
  const k = w.shape.slice(2);
  const inSp = x.shape.slice(2);
  const outSp = inSp.map(
    (h, i) => p.strides[i]! * (h - 1) + (outputPadding[i] ?? 0) + p.dilations[i]! * (k[i]! - 1) + 1 - p.pads[i]! - p.pads[i + nsp]!,
  );
  const shape = [n, m, ...outSp];
  const os = strides(shape);
  const ws = strides(w.shape);
  const out = new Float64Array(size(shape));
  if (b) forEachIndex(shape, (idx, flat) => (out[flat] = b.data[idx[1]!]!));
  // Scatter form: every input element adds w·x to the outputs its kernel window covers.
  forEachIndex(x.shape, (idx, flat) => {
    const [bn, ic] = idx as [number, number];
    const grp = Math.floor(ic / cg);
    const xv = x.data[flat]!;
    for (let om = 0; om < mg; om++) {
      forEachIndex(k, (kidx) => {
        let op = bn * os[0]! + (grp * mg + om) * os[1]!;
        for (let a = 0; a < nsp; a++) {
          const pos = idx[a + 2]! * p.strides[a]! - p.pads[a]! + kidx[a]! * p.dilations[a]!;
          if (pos < 0 || pos >= outSp[a]!) return;
          op += pos * os[a + 2]!;
        }
        let wp = ic * ws[0]! + om * ws[1]!;
        for (let a = 0; a < nsp; a++) wp += kidx[a]! * ws[a + 2]!;
        out[op] = out[op]! + xv * w.data[wp]!;
      });
    }
  });
  return { shape, data: out };
}

function pool(x: Value, a: Attrs, kind: 'avg' | 'max'): Value {
  const kernel = ints(a, 'kernel_shape', []);
  const nsp = kernel.length;
  const st = ints(a, 'strides', new Array<number>(nsp).fill(1));
  const pads = ints(a, 'pads', new Array<number>(2 * nsp).fill(0));
  const includePad = int(a, 'count_include_pad', 0) === 1;
  const inSp = x.shape.slice(2);
  const outSp = inSp.map((h, i) => Math.floor((h + pads[i]! + pads[i + nsp]! - kernel[i]!) / st[i]!) + 1);
  const shape = [x.shape[0]!, x.shape[1]!, ...outSp];
  const xs = strides(x.shape);
  const out = new Float64Array(size(shape));
  forEachIndex(shape, (idx, flat) => {
    let acc = kind === 'max' ? Number.NEGATIVE_INFINITY : 0;
    let count = 0;
    forEachIndex(kernel, (kidx) => {
      let p = idx[0]! * xs[0]! + idx[1]! * xs[1]!;
      let inside = true;
      for (let d = 0; d < nsp; d++) {
        const pos = idx[d + 2]! * st[d]! - pads[d]! + kidx[d]!;
        if (pos < 0 || pos >= inSp[d]!) inside = false;
        p += pos * xs[d + 2]!;
      }
      if (!inside) {
        if (includePad) count++;
        return;
      }
      count++;
      const v = x.data[p]!;
      acc = kind === 'max' ? Math.max(acc, v) : acc + v;
    });
    out[flat] = kind === 'max' ? acc : acc / count;
  });
  return { shape, data: out };
}

function resizeAxis(v: Value, axis: number, scale: number, a: Attrs): Value {
  const mode = str(a, 'mode', 'nearest');
  const coord = str(a, 'coordinate_transformation_mode', 'half_pixel');
  const nearestMode = str(a, 'nearest_mode', 'round_prefer_floor');
  const inLen = v.shape[axis]!;
  const outLen = Math.floor(inLen * scale);
  const shape = v.shape.map((d, i) => (i === axis ? outLen : d));
  const vs = strides(v.shape);
  const original = (o: number): number => {
    switch (coord) {
      case 'asymmetric':
        return o / scale;
      case 'align_corners':
        return outLen === 1 ? 0 : (o * (inLen - 1)) / (outLen - 1);
      case 'pytorch_half_pixel':
        return outLen > 1 ? (o + 0.5) / scale - 0.5 : 0;
      default:
        return (o + 0.5) / scale - 0.5;
    }
  };
  const out = new Float64Array(size(shape));
  forEachIndex(shape, (idx, flat) => {
    const base = idx.reduce((p, d, i) => (i === axis ? p : p + d * vs[i]!), 0);
    const xo = original(idx[axis]!);
    if (mode === 'nearest') {
      let i: number;
      if (nearestMode === 'floor') i = Math.floor(xo);
      else if (nearestMode === 'ceil') i = Math.ceil(xo);
      else if (nearestMode === 'round_prefer_ceil') i = Math.floor(xo + 0.5);
      else i = Math.ceil(xo - 0.5);
      i = Math.min(Math.max(i, 0), inLen - 1);
      out[flat] = v.data[base + i * vs[axis]!]!;
    } else {
      const xc = Math.min(Math.max(xo, 0), inLen - 1);
      const i0 = Math.floor(xc);
      const i1 = Math.min(i0 + 1, inLen - 1);
      const t = xc - i0;
      out[flat] = (1 - t) * v.data[base + i0 * vs[axis]!]! + t * v.data[base + i1 * vs[axis]!]!;
    }
  });
  return { shape, data: out };
}

function pad(x: Value, pads: number[], mode: string, value: number): Value {
  const r = x.shape.length;
  const shape = x.shape.map((d, i) => d + pads[i]! + pads[i + r]!);
  const xs = strides(x.shape);
  const out = new Float64Array(size(shape));
  forEachIndex(shape, (idx, flat) => {
    let p = 0;
    for (let a = 0; a < r; a++) {
      let pos = idx[a]! - pads[a]!;
      const d = x.shape[a]!;
      if (pos < 0 || pos >= d) {
        if (mode === 'constant') {
          out[flat] = value;
          return;
        }
        if (mode === 'edge') pos = Math.min(Math.max(pos, 0), d - 1);
        else {
          const period = 2 * (d - 1);
          pos = ((pos % period) + period) % period;
          if (pos >= d) pos = period - pos;
        }
      }
      p += pos * xs[a]!;
    }
    out[flat] = x.data[p]!;
  });
  return { shape, data: out };
}

function reduce(x: Value, axes: number[], keep: boolean, mean: boolean): Value {
  const r = x.shape.length;
  const ax = axes.map((a) => (a < 0 ? a + r : a));
  const kept = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const ks = strides(kept);
  const out = new Float64Array(size(kept));
  forEachIndex(x.shape, (idx, flat) => {
    let p = 0;
    for (let a = 0; a < r; a++) if (!ax.includes(a)) p += idx[a]! * ks[a]!;
    out[p] = out[p]! + x.data[flat]!;
  });
  if (mean) {
    const cnt = ax.reduce((c, a) => c * x.shape[a]!, 1);
    for (let i = 0; i < out.length; i++) out[i] = out[i]! / cnt;
  }
  return { shape: keep ? kept : x.shape.filter((_, i) => !ax.includes(i)), data: out };
}

function evalNode(node: Node, ins: (Value | undefined)[]): Value[] {
  const a = node.attrs;
  const x = ins[0]!;
  const nums = (v: Value | undefined): number[] => Array.from(v?.data ?? []);
  switch (node.op) {
    case 'Add':
      return [elementwise([x, ins[1]!], (p, q) => p + q)];
    case 'Sub':
      return [elementwise([x, ins[1]!], (p, q) => p - q)];
    case 'Mul':
      return [elementwise([x, ins[1]!], (p, q) => p * q)];
    case 'Div':
      return [elementwise([x, ins[1]!], (p, q) => p / q)];
    case 'Pow':
      return [elementwise([x, ins[1]!], (p, q) => p ** q)];
    case 'Greater':
      return [elementwise([x, ins[1]!], (p, q) => (p > q ? 1 : 0))];
    case 'Less':
      return [elementwise([x, ins[1]!], (p, q) => (p < q ? 1 : 0))];
    case 'Equal':
      return [elementwise([x, ins[1]!], (p, q) => (p === q ? 1 : 0))];
    case 'Where':
      return [elementwise([x, ins[1]!, ins[2]!], (c, p, q) => (c ? p : q))];
    case 'Neg':
      return [map(x, (v) => -v)];
    case 'Relu':
      return [map(x, (v) => Math.max(v, 0))];
    case 'LeakyRelu': {
      const alpha = flt(a, 'alpha', 0.01);
      return [map(x, (v) => (v >= 0 ? v : alpha * v))];
    }
    case 'Clip': {
      const lo = ins[1] ? ins[1].data[0]! : Number.NEGATIVE_INFINITY;
      const hi = ins[2] ? ins[2].data[0]! : Number.POSITIVE_INFINITY;
      return [map(x, (v) => Math.min(Math.max(v, lo), hi))];
    }
    case 'HardSwish':
      return [map(x, (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6)];
    case 'Sigmoid':
      return [map(x, (v) => 1 / (1 + Math.exp(-v)))];
    case 'Tanh':
      return [map(x, Math.tanh)];
    case 'Exp':
      return [map(x, Math.exp)];
    case 'Log':
      return [map(x, Math.log)];
    case 'Sqrt':
      return [map(x, Math.sqrt)];
    case 'Abs':
      return [map(x, Math.abs)];
    case 'Identity':
    case 'Cast':
      return [map(x, (v) => v)];
    case 'MatMul': {
      const b = ins[1]!;
      const m = x.shape[x.shape.length - 2]!;
      const k = x.shape[x.shape.length - 1]!;
      const n = b.shape[b.shape.length - 1]!;
      const batch = broadcastShape([x.shape.slice(0, -2), b.shape.slice(0, -2)]);
      const out = new Float64Array(size(batch) * m * n);
      const ra = broadcastReader({ shape: x.shape.slice(0, -2), data: Float64Array.from({ length: size(x.shape.slice(0, -2)) }, (_, i) => i) }, batch);
      const rb = broadcastReader({ shape: b.shape.slice(0, -2), data: Float64Array.from({ length: size(b.shape.slice(0, -2)) }, (_, i) => i) }, batch);
      forEachIndex(batch, (idx, flat) => matmul2(x.data, ra(idx) * m * k, b.data, rb(idx) * k * n, m, k, n, out, flat * m * n));
      return [{ shape: [...batch, m, n], data: out }];
    }
    case 'Gemm': {
      const A = int(a, 'transA', 0) ? transpose(x, [1, 0]) : x;
      const B = int(a, 'transB', 0) ? transpose(ins[1]!, [1, 0]) : ins[1]!;
      const [m, k] = A.shape as [number, number];
      const n = B.shape[1]!;
      const out = new Float64Array(m * n);
      matmul2(A.data, 0, B.data, 0, m, k, n, out, 0);
      const alpha = flt(a, 'alpha', 1);
      const beta = flt(a, 'beta', 1);
      let y: Value = { shape: [m, n], data: out.map((v) => v * alpha) };
      if (ins[2]) y = elementwise([y, ins[2]], (p, q) => p + beta * q);
      return [y];
    }
    case 'Conv':
      return [conv(x, ins[1]!, ins[2], convAttrs(a, x.shape.length - 2))];
    case 'ConvTranspose':
      return [convTranspose(x, ins[1]!, ins[2], convAttrs(a, x.shape.length - 2), ints(a, 'output_padding', []))];
    case 'AveragePool':
      return [pool(x, a, 'avg')];
    case 'MaxPool':
      return [pool(x, a, 'max')];
    case 'Reshape':
      return [{ shape: nums(ins[1]), data: x.data.slice() }];
    case 'Transpose':
      return [transpose(x, ints(a, 'perm', x.shape.map((_, i) => x.shape.length - 1 - i)))];
    case 'Expand': {
      const shape = broadcastShape([x.shape, nums(ins[1])]);
      return [elementwise([x, { shape, data: new Float64Array(size(shape)) }], (p) => p)];
    }
    case 'Concat': {
      const axis = int(a, 'axis', 0);
      const parts = ins as Value[];
      const shape = [...x.shape];
      shape[axis] = parts.reduce((s, v) => s + v.shape[axis]!, 0);
      const os = strides(shape);
      const out = new Float64Array(size(shape));
      let off = 0;
      for (const v of parts) {
        forEachIndex(v.shape, (idx, flat) => {
          let p = 0;
          idx.forEach((d, i) => (p += (i === axis ? d + off : d) * os[i]!));
          out[p] = v.data[flat]!;
        });
        off += v.shape[axis]!;
      }
      return [{ shape, data: out }];
    }
    case 'Split': {
      const axis = int(a, 'axis', 0);
      let off = 0;
      return nums(ins[1]).map((len) => {
        const starts = x.shape.map((_, i) => (i === axis ? off : 0));
        off += len;
        const shape = x.shape.map((d, i) => (i === axis ? len : d));
        const xs = strides(x.shape);
        const out = new Float64Array(size(shape));
        forEachIndex(shape, (idx, flat) => (out[flat] = x.data[idx.reduce((p, d, i) => p + (d + starts[i]!) * xs[i]!, 0)]!));
        return { shape, data: out };
      });
    }
    case 'Slice': {
      const starts = nums(ins[1]);
      const ends = nums(ins[2]);
      const axes = ins[3] ? nums(ins[3]) : starts.map((_, i) => i);
      const steps = ins[4] ? nums(ins[4]) : starts.map(() => 1);
      const first = x.shape.map(() => 0);
      const step = x.shape.map(() => 1);
      const shape = [...x.shape];
      axes.forEach((ax0, i) => {
        const ax = ax0 < 0 ? ax0 + x.shape.length : ax0;
        const r = sliceRange(x.shape[ax]!, starts[i]!, ends[i]!, steps[i]!)!;
        first[ax] = r.start;
        step[ax] = steps[i]!;
        shape[ax] = r.length;
      });
      const xs = strides(x.shape);
      const out = new Float64Array(size(shape));
      forEachIndex(shape, (idx, flat) => (out[flat] = x.data[idx.reduce((p, d, i) => p + (first[i]! + d * step[i]!) * xs[i]!, 0)]!));
      return [{ shape, data: out }];
    }
    case 'Pad':
      return [pad(x, nums(ins[1]), str(a, 'mode', 'constant'), ins[2] ? ins[2].data[0]! : 0)];
    case 'Resize': {
      const scales = nums(ins[2]);
      let v = x;
      scales.forEach((s, axis) => {
        if (s !== 1) v = resizeAxis(v, axis, s, a);
      });
      return [v];
    }
    case 'DepthToSpace': {
      const b = int(a, 'blocksize', 1);
      const [n, c, h, w] = x.shape as [number, number, number, number];
      const co = c / (b * b);
      const dcr = str(a, 'mode', 'DCR') === 'DCR';
      const blocks = dcr ? [n, b, b, co, h, w] : [n, co, b, b, h, w];
      const t = transpose({ shape: blocks, data: x.data }, dcr ? [0, 3, 4, 1, 5, 2] : [0, 1, 4, 2, 5, 3]);
      return [{ shape: [n, co, h * b, w * b], data: t.data }];
    }
    case 'ReduceSum':
      return [reduce(x, ins[1] ? nums(ins[1]) : x.shape.map((_, i) => i), int(a, 'keepdims', 1) === 1, false)];
    case 'ReduceMean':
      return [reduce(x, ints(a, 'axes', x.shape.map((_, i) => i)), int(a, 'keepdims', 1) === 1, true)];
    default:
      throw new Error(`reference: op ${node.op} ("${node.name}") is not implemented`);
  }
}

/** Values of constants and parameters as the reference sees them (float16 decoded, int64 as numbers). */
function constantValue(data: ArrayLike<number | bigint>, dtype: Tensor['dtype'], shape: readonly number[]): Value {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    out[i] = dtype === 'float16' ? fromHalfBits(Number(v)) : Number(v);
  }
  return { shape: [...shape], data: out };
}

/**
 * Evaluates `targets` in float64. `feeds` gives graph inputs and may override parameters (by name); parameters
 * default to their initial values. Only the nodes the targets depend on run.
 */
export function evaluate(g: Graph, feeds: ReadonlyMap<string, Float64Array>, targets: readonly Tensor[]): Value[] {
  const env = new Map<string, Value>();
  for (const c of g.constants) env.set(c.tensor.name, constantValue(c.data as ArrayLike<number | bigint>, c.tensor.dtype, c.tensor.shape));
  for (const p of g.params) env.set(p.name, { shape: [...p.shape], data: feeds.get(p.name) ?? Float64Array.from(p.init) });
  for (const t of g.inputs) {
    const d = feeds.get(t.name);
    if (d) env.set(t.name, { shape: [...t.shape], data: d });
  }
  const live = new Set(targets.map((t) => t.name));
  const order: Node[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (!n.outputs.some((o) => live.has(o.name))) continue;
    order.push(n);
    for (const t of n.inputs) if (t) live.add(t.name);
  }
  for (const n of order.reverse()) {
    const ins = n.inputs.map((t) => {
      if (!t) return undefined;
      const v = env.get(t.name);
      if (!v) throw new Error(`reference: no value for "${t.name}" (input of ${n.op} "${n.name}")`);
      return v;
    });
    const outs = evalNode(n, ins);
    n.outputs.forEach((o, i) => {
      const v = outs[i]!;
      if (v.shape.length !== o.shape.length || v.shape.some((d, k) => d !== o.shape[k])) {
        throw new Error(`reference: ${n.op} "${n.name}" computed [${v.shape}] but the builder inferred [${o.shape}]`);
      }
      env.set(o.name, v);
    });
  }
  return targets.map((t) => {
    const v = env.get(t.name);
    if (!v) throw new Error(`reference: "${t.name}" was not computed`);
    return v;
  });
}
