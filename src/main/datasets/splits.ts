// Train/validation splits with a fixed seed: an item's split is a hash of (seed, image sha256), stable as items are added.
import { hash } from 'node:crypto';
import type { Split } from './types.ts';

/**
 * The split of an item. Hashing instead of shuffling means an item keeps its split when more items are imported,
 * and the same seed gives the same split on any machine; the validation share converges to `validationFraction`.
 */
export function splitOf(seed: number, imageSha: string, validationFraction: number): Split {
  // The one-shot hash: about twice as fast as createHash for short inputs, and splits are computed per inserted item.
  const digest = hash('sha256', `${seed}:${imageSha}`, 'buffer');
  // 48 bits of the digest as a uniform number in [0, 1).
  const u = digest.readUIntBE(0, 6) / 2 ** 48;
  return u < validationFraction ? 'validation' : 'train';
}
