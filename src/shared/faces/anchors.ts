// SSD anchor centres as MediaPipe's SsdAnchorsCalculator generates them for BlazeFace (fixed anchor size).

/** Options of {@link generateAnchors}; a subset of MediaPipe's `SsdAnchorsCalculatorOptions` (fixed anchor size). */
export interface AnchorOptions {
  /** Model input width and height in pixels. */
  inputWidth: number;
  inputHeight: number;
  /** Stride of each output layer; consecutive layers with the same stride share one feature map. */
  strides: readonly number[];
  /** Anchors per feature-map cell contributed by each layer (aspect ratios plus the interpolated one). */
  anchorsPerLayer: readonly number[];
  /** Offset of an anchor centre inside its cell, in cells (MediaPipe: 0.5). */
  anchorOffset: number;
}

/**
 * MediaPipe's short-range ("front") face detector: 4 layers with strides 8, 16, 16, 16 and two anchors per layer
 * (aspect ratio 1 plus the interpolated scale), giving a 16×16×2 grid and an 8×8×6 grid: 896 anchors.
 */
export const BLAZEFACE_FRONT_ANCHORS: AnchorOptions = {
  inputWidth: 128,
  inputHeight: 128,
  strides: [8, 16, 16, 16],
  anchorsPerLayer: [2, 2, 2, 2],
  anchorOffset: 0.5,
};

/**
 * Anchor centres, normalised to [0, 1], as interleaved `[x0, y0, x1, y1, …]`, in the order the model's outputs use:
 * feature map by feature map, then row (y), column (x), anchor. With a fixed anchor size every anchor is 1×1, so only
 * the centres are returned.
 */
export function generateAnchors(options: AnchorOptions): Float32Array {
  const { strides, anchorsPerLayer } = options;
  if (strides.length !== anchorsPerLayer.length) {
    throw new Error(`generateAnchors: ${strides.length} strides but ${anchorsPerLayer.length} anchor counts`);
  }
  const centres: number[] = [];
  let layer = 0;
  while (layer < strides.length) {
    const stride = strides[layer]!;
    let perCell = 0;
    let last = layer;
    // MediaPipe folds consecutive layers with the same stride into one feature map with more anchors per cell.
    while (last < strides.length && strides[last] === stride) {
      perCell += anchorsPerLayer[last]!;
      last += 1;
    }
    const rows = Math.ceil(options.inputHeight / stride);
    const cols = Math.ceil(options.inputWidth / stride);
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < cols; x++) {
        const cx = (x + options.anchorOffset) / cols;
        const cy = (y + options.anchorOffset) / rows;
        for (let a = 0; a < perCell; a++) centres.push(cx, cy);
      }
    }
    layer = last;
  }
  return Float32Array.from(centres);
}
