// Opt-in download of ONNX Runtime's CUDA execution provider libraries (npm run setup:cuda); the default install skips it.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const ortDir = dirname(require.resolve('onnxruntime-node/package.json'));
// The environment variable wins over the `skip` that .npmrc sets for ordinary installs.
const result = spawnSync(process.execPath, [join(ortDir, 'script', 'install.js')], {
  stdio: 'inherit',
  env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12', npm_config_onnxruntime_node_install: 'cuda12' },
});
if (result.status !== 0) {
  console.error('setup:cuda failed: the CUDA 12 libraries for onnxruntime-node could not be downloaded (see above).');
  console.error('The studio still runs on the CPU and WebGPU providers, which ship inside onnxruntime-node.');
  process.exit(result.status ?? 1);
}
console.log('CUDA execution provider installed; `npx effects-studio devices` should now list cuda as available.');
