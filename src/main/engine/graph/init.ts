// Seeded parameter initialisers (He, Xavier, normal, uniform, constants): deterministic by graph seed and parameter name.
import { sizeOf, type Shape } from './types.ts';

/**
 * How a parameter's initial values are drawn. Fan-in/fan-out default to PyTorch's convention for a weight laid out
 * `[out, in, ...kernel]` (conv weights, Gemm weights used with `transB`); pass them explicitly for other layouts.
 */
export type Init =
  | 'zeros'
  | 'ones'
  | 'he'
  | 'xavier'
  | { readonly kind: 'zeros' }
  | { readonly kind: 'ones' }
  | { readonly kind: 'constant'; readonly value: number }
  | { readonly kind: 'normal'; readonly std: number; readonly mean?: number }
  | { readonly kind: 'uniform'; readonly low: number; readonly high: number }
  /** Kaiming: std = gain/√fanIn (normal) or bound = gain·√(3/fanIn) (uniform); gain defaults to √2 (ReLU). */
  | { readonly kind: 'he'; readonly mode?: 'normal' | 'uniform'; readonly gain?: number; readonly fanIn?: number }
  /** Glorot: std = gain·√(2/(fanIn+fanOut)) (normal) or bound = gain·√(6/(fanIn+fanOut)) (uniform). */
  | {
      readonly kind: 'xavier';
      readonly mode?: 'normal' | 'uniform';
      readonly gain?: number;
      readonly fanIn?: number;
      readonly fanOut?: number;
    }
  /** Explicit values (copied), e.g. weights read from a checkpoint. */
  | { readonly kind: 'values'; readonly data: ArrayLike<number> };

/** PyTorch's `_calculate_fan_in_and_fan_out` for a weight `[out, in, ...kernel]`. */
export function fans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    const n = shape[0] ?? 1;
    return { fanIn: n, fanOut: n };
  }
  const receptive = sizeOf(shape.slice(2));
  return { fanIn: (shape[1] ?? 1) * receptive, fanOut: (shape[0] ?? 1) * receptive };
}

/** 32-bit FNV-1a hash of a string, used to give each parameter its own RNG stream. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A small deterministic PRNG (SplitMix32 seeding an xoshiro128** state). Not cryptographic; the point is that the
 * same seed gives the same numbers on every platform.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  /** Creates a generator from a seed and an optional stream name (e.g. a parameter name). */
  constructor(seed: number, stream = '') {
    let x = (Math.trunc(seed) ^ hashString(stream)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** Next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal (Box–Muller, caching the second value). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Draws the initial values of a parameter. Deterministic in (seed, name, shape, init). */
export function initialValues(init: Init, shape: Shape, seed: number, name: string): Float32Array {
  const n = sizeOf(shape);
  const out = new Float32Array(n);
  const spec = typeof init === 'string' ? ({ kind: init } as const) : init;
  const rng = new Rng(seed, name);
  const normal = (mean: number, std: number): void => {
    for (let i = 0; i < n; i++) out[i] = mean + std * rng.normal();
  };
  const uniform = (low: number, high: number): void => {
    for (let i = 0; i < n; i++) out[i] = low + (high - low) * rng.uniform();
  };
  switch (spec.kind) {
    case 'zeros':
      break;
    case 'ones':
      out.fill(1);
      break;
    case 'constant':
      out.fill(spec.value);
      break;
    case 'normal':
      normal(spec.mean ?? 0, spec.std);
      break;
    case 'uniform':
      uniform(spec.low, spec.high);
      break;
    case 'he': {
      const gain = 'gain' in spec && spec.gain !== undefined ? spec.gain : Math.SQRT2;
      const fanIn = ('fanIn' in spec ? spec.fanIn : undefined) ?? fans(shape).fanIn;
      if ('mode' in spec && spec.mode === 'uniform') {
        const bound = gain * Math.sqrt(3 / fanIn);
        uniform(-bound, bound);
      } else normal(0, gain / Math.sqrt(fanIn));
      break;
    }
    case 'xavier': {
      const gain = 'gain' in spec && spec.gain !== undefined ? spec.gain : 1;
      const f = fans(shape);
      const fanIn = ('fanIn' in spec ? spec.fanIn : undefined) ?? f.fanIn;
      const fanOut = ('fanOut' in spec ? spec.fanOut : undefined) ?? f.fanOut;
      if ('mode' in spec && spec.mode === 'uniform') {
        const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
        uniform(-bound, bound);
      } else normal(0, gain * Math.sqrt(2 / (fanIn + fanOut)));
      break;
    }
    case 'values':
      if (spec.data.length !== n) {
        throw new Error(`param "${name}": ${spec.data.length} initial values given for shape [${shape.join(',')}] (${n} elements)`);
      }
      out.set(spec.data);
      break;
  }
  return out;
}
