// One image of an import: read it, check it, decode it once (orientation applied), and derive thumbnail, pHash and faces.
import { readFile, stat } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { scaleDetection } from '../../shared/faces/refine.ts';
import type { FaceDetection } from '../../shared/faces/types.ts';
import type { FaceDetector } from '../faces/detector.ts';
import { DEFAULT_MAX_PIXELS, decodePixels, fromPixels } from '../faces/pixels.ts';
import { phashOfPixels } from './phash.ts';

/** File name endings the importer treats as images; anything else in a folder is skipped. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.avif', '.tif', '.tiff', '.gif'];

/** Formats (as sharp names them) that are imported; vector and document formats are refused. */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'heif', 'tiff', 'gif']);

/** Limits and sizes of image processing. */
export interface ProcessOptions {
  /** Refuse images with more pixels than this (decompression bombs). Default 100 MP. */
  maxPixels?: number;
  /** Refuse files larger than this many bytes. Default 256 MiB. */
  maxBytes?: number;
  /** Longer side of thumbnails in pixels. Default 256. */
  thumbnailSize?: number;
  /** Faces are looked for with this detector; null imports without detection. */
  detector: FaceDetector | null;
}

/** What the importer keeps of one image besides its bytes. */
export interface ProcessedImage {
  format: string;
  /** Size with the EXIF orientation applied. */
  width: number;
  height: number;
  /** WebP thumbnail, orientation applied. */
  thumbnail: Buffer;
  phash: string;
  /** Faces in oriented image pixels, best first; null when no detector was given. */
  faces: FaceDetection[] | null;
}

/** A file that cannot be imported, with a reason a user can act on. */
export class ImageRejectedError extends Error {
  override readonly name = 'ImageRejectedError';
}

const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** Side of the one decoded copy that thumbnail, hash and detection share (JPEGs decode straight to it, via DCT scaling). */
const WORK_SIDE = 512;
/** libvips gives up on a single image after this long (a pathological file must not stall the import). */
const SHARP_TIMEOUT_S = 60;

/** Reads a file for import; every failure becomes an {@link ImageRejectedError} naming the cause. */
export async function readImageFile(path: string, maxBytes = DEFAULT_MAX_BYTES): Promise<Buffer> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new ImageRejectedError('is a folder, not a file');
    // A pipe or device would block the read forever.
    if (!st.isFile()) throw new ImageRejectedError('not a regular file (a pipe, socket or device)');
    if (st.size === 0) throw new ImageRejectedError('empty file (0 bytes)');
    if (st.size > maxBytes) throw new ImageRejectedError(`file too large (${st.size} bytes; the limit is ${maxBytes})`);
    return await readFile(path);
  } catch (error) {
    if (error instanceof ImageRejectedError) throw error;
    throw new ImageRejectedError(describeFsError(error));
  }
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'file not found (moved or deleted during the import?)';
    case 'EACCES':
    case 'EPERM':
      return 'cannot read the file: permission denied';
    case 'EISDIR':
      return 'is a folder, not a file';
    default:
      return `cannot read the file: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Checks and decodes an image's bytes and derives what the dataset keeps; throws {@link ImageRejectedError}. */
export async function processImage(bytes: Buffer, options: ProcessOptions): Promise<ProcessedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  let meta: Metadata;
  try {
    // Pixel limit off here so that a bomb is reported with its size rather than sharp's generic message.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageRejectedError(describeDecodeError(error));
  }
  if (meta.format === undefined || !ACCEPTED_FORMATS.has(meta.format)) {
    throw new ImageRejectedError(`unsupported image format (${meta.format ?? 'unknown'})`);
  }
  const rawWidth = meta.width ?? 0;
  const rawHeight = meta.height ?? 0;
  if (rawWidth <= 0 || rawHeight <= 0) throw new ImageRejectedError('the image has no size');
  if (rawWidth * rawHeight > maxPixels) {
    throw new ImageRejectedError(
      `image too large: ${rawWidth}×${rawHeight} = ${rawWidth * rawHeight} pixels, over the limit of ${maxPixels}`,
    );
  }
  // EXIF orientations 5–8 turn the image a quarter.
  const isTransposed = (meta.orientation ?? 1) >= 5;
  const width = isTransposed ? rawHeight : rawWidth;
  const height = isTransposed ? rawWidth : rawHeight;

  let work;
  try {
    // Decoding the whole file (not just its header) is what catches truncated and corrupt images.
    work = await decodePixels(bytes, { maxPixels, maxSide: WORK_SIDE });
  } catch (error) {
    throw new ImageRejectedError(describeDecodeError(error));
  }
  const thumbSide = options.thumbnailSize ?? 256;
  const [thumbnail, phash, found] = await Promise.all([
    fromPixels(work)
      .timeout({ seconds: SHARP_TIMEOUT_S })
      .resize(thumbSide, thumbSide, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer(),
    phashOfPixels(work),
    options.detector ? options.detector.findFaces(work) : Promise.resolve(null),
  ]);
  const faces = found === null ? null : found.map((f) => scaleDetection(f, width / work.width, height / work.height));
  return {
    format: meta.format,
    width,
    height,
    thumbnail,
    phash,
    faces,
  };
}

function describeDecodeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/unsupported image format/i.test(message)) return 'not an image, or an image format this studio cannot read';
  if (/premature end|truncated|read error|unexpected end/i.test(message)) return `truncated or corrupt image (${message})`;
  if (/pixel limit/i.test(message)) return `image too large (${message})`;
  return `cannot decode the image (${message})`;
}
