// Seeded Gaussian numbers that are bit-identical on every platform and runtime: latents and noise from a seed.
//
// The scheme, so that any language can reproduce it exactly:
//  1. State: xoshiro128** (four 32-bit words). Seeding: the seed (a safe integer ≥ 0) and a stream number are
//     split into 32-bit words and hashed with murmur3's fmix32 into the four state words.
//  2. Uniform double in [0, 1): two outputs a, b → ((a >>> 5) · 2^26 + (b >>> 6)) / 2^53.
//  3. Gaussian: Marsaglia's polar method on u, v = 2·uniform − 1 (pairs with s = u² + v² outside (0, 1) are
//     discarded), giving u·f then v·f with f = sqrt(−2·ln(s) / s).
//  4. ln is computed with IEEE basic operations only (no Math.log, whose last bit may differ between libms):
//     s = m·2^e with m in [√½, √2), ln s = e·ln 2 + 2·atanh((m − 1)/(m + 1)) by its odd series.
// Every step uses only +, −, ×, ÷, sqrt and 32-bit integer operations, which IEEE 754 defines exactly.

/** Distinct streams derived from one seed, so a sample's latent and its noise maps never share numbers. */
export const STREAM = { latent: 0, noise: 1, init: 2 } as const;

const LN2 = 0.6931471805599453;
const SQRT_HALF = 0.7071067811865476;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Natural logarithm of a positive finite double from basic IEEE operations only (see the file header). */
export function portableLn(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`portableLn: ${x} is not a positive finite number`);
  let m = x;
  let e = 0;
  // Scaling by powers of two is exact, so this normalisation introduces no rounding.
  while (m >= 2) {
    m /= 2;
    e += 1;
  }
  while (m < 1) {
    m *= 2;
    e -= 1;
  }
  if (m > 1 / SQRT_HALF) {
    m /= 2;
    e += 1;
  }
  const t = (m - 1) / (m + 1);
  const t2 = t * t;
  // |t| ≤ 0.1716, so 13 odd terms bring the truncation error below 2^-60.
  let sum = 0;
  for (let k = 25; k >= 1; k -= 2) sum = sum * t2 + 1 / k;
  return e * LN2 + 2 * t * sum;
}

/** A seeded stream of uniform and standard-normal numbers (xoshiro128** + polar method; see the file header). */
export class SeededRandom {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  #spare: number | null = null;

  /** `seed`: a safe integer ≥ 0; `stream`: a small integer choosing an independent stream for the same seed. */
  constructor(seed: number, stream: number = STREAM.latent) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a safe integer ≥ 0, got ${seed}`);
    if (!Number.isSafeInteger(stream) || stream < 0 || stream > 0xffffffff) {
      throw new RangeError(`stream must be an integer in [0, 2^32), got ${stream}`);
    }
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 0x100000000) >>> 0;
    this.#s0 = fmix32(lo ^ 0x9e3779b9);
    this.#s1 = fmix32(hi ^ 0x243f6a88);
    this.#s2 = fmix32(stream ^ 0xb7e15162);
    this.#s3 = fmix32((lo + 0x6a09e667) ^ Math.imul(hi, 0x3c6ef372) ^ stream) | 1; // never the all-zero state
  }

  /** Next 32-bit unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal double (mean 0, variance 1). */
  gaussian(): number {
    if (this.#spare !== null) {
      const spare = this.#spare;
      this.#spare = null;
      return spare;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s <= 0 || s >= 1) continue;
      const f = Math.sqrt((-2 * portableLn(s)) / s);
      this.#spare = v * f;
      return u * f;
    }
  }

  /** Fills `out` with standard normal numbers (rounded to float32 when `out` is a Float32Array). */
  fillGaussian<T extends Float32Array | Float64Array>(out: T, scale = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = this.gaussian() * scale;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The latent z of one seed: `zDim` standard normal numbers, identical on every platform. */
export function latentFromSeed(seed: number, zDim: number): Float32Array {
  return new SeededRandom(seed, STREAM.latent).fillGaussian(new Float32Array(zDim));
}

/**
 * Latents for `count` consecutive seeds starting at `firstSeed`, as one [count, zDim] row-major array:
 * row i is `latentFromSeed(firstSeed + i, zDim)`, so any sample can be regenerated from its own seed alone.
 */
export function sampleLatents(firstSeed: number, count: number, zDim: number): Float32Array {
  const out = new Float32Array(count * zDim);
  for (let i = 0; i < count; i++) out.set(latentFromSeed(firstSeed + i, zDim), i * zDim);
  return out;
}
