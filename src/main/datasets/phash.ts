// 64-bit perceptual hash (pHash: low frequencies of the DCT of a 32×32 grey image) and Hamming distances.
import type { PixelImage } from '../../shared/faces/warp.ts';
import { fromPixels } from '../faces/pixels.ts';

/** Side of the grey image the hash is computed from. */
export const PHASH_INPUT = 32;
/** Side of the block of lowest DCT frequencies that become the 64 bits. */
const HASH_SIDE = 8;

// cos(π·k·(2n+1) / 2N) for the 8 lowest frequencies k and every n: the DCT-II basis, computed once.
const BASIS = (() => {
  const b = new Float64Array(HASH_SIDE * PHASH_INPUT);
  for (let k = 0; k < HASH_SIDE; k++) {
    for (let n = 0; n < PHASH_INPUT; n++) b[k * PHASH_INPUT + n] = Math.cos((Math.PI * k * (2 * n + 1)) / (2 * PHASH_INPUT));
  }
  return b;
})();

/**
 * The pHash of a 32×32 grey image (row-major, any numeric scale), as the `imagehash` Python package defines it:
 * 2-D DCT-II, the top-left 8×8 block (DC included), each bit = coefficient > the block's median, first bit the most
 * significant hex digit. Returned as 16 lowercase hex digits.
 */
export function phashFromGrey(grey: ArrayLike<number>): string {
  if (grey.length !== PHASH_INPUT * PHASH_INPUT) {
    throw new Error(`phashFromGrey: expected ${PHASH_INPUT * PHASH_INPUT} values, got ${grey.length}`);
  }
  const N = PHASH_INPUT;
  // Rows first (only the 8 lowest column frequencies are needed), then columns.
  const rows = new Float64Array(N * HASH_SIDE);
  for (let y = 0; y < N; y++) {
    for (let k = 0; k < HASH_SIDE; k++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += grey[y * N + n]! * BASIS[k * N + n]!;
      rows[y * HASH_SIDE + k] = s;
    }
  }
  const block = new Float64Array(HASH_SIDE * HASH_SIDE);
  for (let k = 0; k < HASH_SIDE; k++) {
    for (let j = 0; j < HASH_SIDE; j++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += rows[n * HASH_SIDE + j]! * BASIS[k * N + n]!;
      block[k * HASH_SIDE + j] = s;
    }
  }
  const sorted = Float64Array.from(block).sort();
  const median = (sorted[31]! + sorted[32]!) / 2;
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let v = 0;
    for (let b = 0; b < 4; b++) v = (v << 1) | (block[nibble * 4 + b]! > median ? 1 : 0);
    hex += v.toString(16);
  }
  return hex;
}

/** The pHash of an image: shrunk to 32×32 grey with sharp, then {@link phashFromGrey}. */
export async function phashOfPixels(image: PixelImage): Promise<string> {
  const { data } = await fromPixels(image)
    .greyscale()
    .resize(PHASH_INPUT, PHASH_INPUT, { fit: 'fill' })
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return phashFromGrey(data);
}

const POPCOUNT_4 = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4];

/** Number of differing bits between two 16-hex-digit hashes. */
export function hammingDistance(a: string, b: string): number {
  if (a.length !== b.length) throw new Error(`hammingDistance: hashes of different lengths (${a.length}, ${b.length})`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d += POPCOUNT_4[parseInt(a[i]!, 16) ^ parseInt(b[i]!, 16)]!;
  return d;
}
