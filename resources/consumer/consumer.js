// The minimal consumer: opens a .fxpkg, loads its model with onnxruntime-web and runs it on the webcam, side by side.
import { readPackage } from './fxpkg.js';

const ort = globalThis.ort;
const $ = (id) => document.getElementById(id);
let session = null;
let manifest = null;
let running = false;
let stream = null;

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

$('package').addEventListener('change', async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  try {
    if (!ort) throw new Error('onnxruntime-web did not load (see README: serve the repository root)');
    const pkg = await readPackage(await file.arrayBuffer());
    manifest = pkg.manifest;
    const variant = $('fp16').checked && pkg.entries.has('model.fp16.onnx') ? 'model.fp16.onnx' : 'model.onnx';
    const providers = navigator.gpu ? ['webgpu', 'wasm'] : ['wasm'];
    session = await ort.InferenceSession.create(pkg.entries.get(variant), { executionProviders: providers });
    const [, , h, w] = manifest.io.input.shape;
    for (const id of ['before', 'after']) Object.assign($(id), { width: w, height: h });
    status(`${manifest.name}: ${variant}, input ${manifest.io.input.name} ${w}×${h} ${manifest.io.colorOrder}` +
      (manifest.faceCrop ? ' — the model expects an aligned face crop; this page feeds a centre crop' : ''));
    $('start').disabled = false;
  } catch (error) {
    status(`Cannot use this package: ${error.message}`, true);
  }
});

$('start').addEventListener('click', async () => {
  const video = $('video');
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  } catch (error) {
    status(`No camera: ${error.message}`, true);
    return;
  }
  video.srcObject = stream;
  await video.play();
  running = true;
  document.body.dataset.state = 'running';
  $('start').disabled = true;
  $('stop').disabled = false;
  requestAnimationFrame(frame);
});

// Stops after the frame in flight, so both canvases show the same frame: camera and its effect.
$('stop').addEventListener('click', () => {
  running = false;
  $('stop').disabled = true;
});

function stopped() {
  for (const track of stream?.getTracks() ?? []) track.stop();
  document.body.dataset.state = 'stopped';
  $('start').disabled = session === null;
}

async function frame() {
  if (!running) {
    stopped();
    return;
  }
  const video = $('video');
  const before = $('before').getContext('2d', { willReadFrequently: true });
  const { width: w, height: h } = $('before');
  const side = Math.min(video.videoWidth, video.videoHeight);
  before.drawImage(video, (video.videoWidth - side) / 2, (video.videoHeight - side) / 2, side, side, 0, 0, w, h);
  const pixels = before.getImageData(0, 0, w, h).data;
  const [lo, hi] = manifest.io.valueRange;
  const order = manifest.io.colorOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const input = new Float32Array(3 * w * h);
  for (let p = 0; p < w * h; p++) {
    for (let c = 0; c < 3; c++) input[c * w * h + p] = lo + (pixels[p * 4 + order[c]] / 255) * (hi - lo);
  }
  const start = performance.now();
  const out = await session.run({ [manifest.io.input.name]: new ort.Tensor('float32', input, manifest.io.input.shape) });
  const ms = performance.now() - start;
  const data = out[manifest.io.output.name].data;
  const image = new ImageData(w, h);
  for (let p = 0; p < w * h; p++) {
    for (let c = 0; c < 3; c++) {
      const v = (data[c * w * h + p] - lo) / (hi - lo);
      image.data[p * 4 + order[c]] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
    image.data[p * 4 + 3] = 255;
  }
  $('after').getContext('2d').putImageData(image, 0, 0);
  $('timing').textContent = `${ms.toFixed(1)} ms per frame`;
  requestAnimationFrame(frame);
}
