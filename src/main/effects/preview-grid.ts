// One PNG of an edit preview: a row per seed, the original first and then one column per strength α.
import sharp, { type OverlayOptions } from 'sharp';
import type { EffectPreviewResult } from '../../shared/effects/types.ts';
import type { BlobStore } from '../core/blob-store.ts';

/** Pixels between cells (the background shows through). */
export const GRID_GAP = 4;

/** Composes the preview's images (blobs) into one PNG: rows are seeds, columns original | α₁ | α₂ …. */
export async function previewGridPng(blobs: BlobStore, preview: EffectPreviewResult): Promise<Buffer> {
  const cell = preview.resolution;
  const columns = 1 + preview.alphas.length;
  const rows = preview.images.length;
  const composites: OverlayOptions[] = [];
  for (const [row, image] of preview.images.entries()) {
    const shas = [image.originalSha256, ...image.editedSha256];
    if (shas.length !== columns) throw new Error(`preview of seed ${image.seed} has ${shas.length} images, expected ${columns}`);
    for (const [column, sha] of shas.entries()) {
      composites.push({ input: await blobs.read(sha), left: GRID_GAP + column * (cell + GRID_GAP), top: GRID_GAP + row * (cell + GRID_GAP) });
    }
  }
  return sharp({
    create: {
      width: GRID_GAP + columns * (cell + GRID_GAP),
      height: GRID_GAP + rows * (cell + GRID_GAP),
      channels: 3,
      background: { r: 24, g: 24, b: 27 },
    },
  })
    .composite(composites)
    .png()
    .toBuffer();
}
