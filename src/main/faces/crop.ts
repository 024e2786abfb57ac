// Aligned face crops from full-resolution pixels: pre-shrink with sharp when needed, then the shared affine warp.
import { composeAffine, type Affine } from '../../shared/faces/affine.ts';
import { alignFace, type FaceAlignment } from '../../shared/faces/align.ts';
import type { FaceDetection } from '../../shared/faces/types.ts';
import { warpAffine, type PixelImage } from '../../shared/faces/warp.ts';
import { resizePixels } from './pixels.ts';

/** An aligned square face crop and the transform that made it (keep it to paste results back). */
export interface AlignedCrop {
  crop: PixelImage;
  alignment: FaceAlignment;
}

/**
 * Crops `face` out of `image` into a level, FFHQ-framed `size`×`size` square. When the face is more than twice the
 * crop's size in the source, the source is first shrunk with sharp's Lanczos filter so the bilinear warp does not
 * alias; the returned alignment always refers to the original image's pixels.
 */
export async function alignedCrop(image: PixelImage, face: Pick<FaceDetection, 'keypoints'>, size: number): Promise<AlignedCrop> {
  const alignment = alignFace(face, size);
  const shrink = Math.floor(alignment.sourceSide / size);
  if (shrink < 2) return { crop: warpAffine(image, alignment.toSource, size, size), alignment };
  const width = Math.max(1, Math.round(image.width / shrink));
  const height = Math.max(1, Math.round(image.height / shrink));
  const small = await resizePixels(image, width, height);
  const toSmall: Affine = [width / image.width, 0, 0, 0, height / image.height, 0];
  const cropToSmall = composeAffine(toSmall, alignment.toSource);
  return { crop: warpAffine(small, cropToSmall, size, size), alignment };
}

