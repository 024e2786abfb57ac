// Ambient types of the asset URLs Vite emits for `?url` imports (the ONNX Runtime WASM binary, the BlazeFace model).
declare module '*?url' {
  /** Where the built app serves the file. */
  const url: string;
  export default url;
}
