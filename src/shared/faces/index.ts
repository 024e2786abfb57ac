// Face maths shared by main (dataset import) and the renderer (live webcam preview): BlazeFace decoding, alignment, warps.
export * from './types.ts';
export * from './anchors.ts';
export * from './decode.ts';
export * from './nms.ts';
export * from './letterbox.ts';
export * from './affine.ts';
export * from './align.ts';
export * from './warp.ts';
export * from './blazeface.ts';
export * from './refine.ts';
export * from './smoothing.ts';
