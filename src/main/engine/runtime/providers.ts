// Which ONNX Runtime execution providers this platform may have, in preference order, and why one cannot be tried.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { listSupportedBackends } from 'onnxruntime-node';
import type { ProviderName } from '../../../shared/contract.ts';

/** Every provider the studio knows, best first; a platform's list is this order filtered by `platformProviders`. */
export const PROVIDER_ORDER: readonly ProviderName[] = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'];

/** The providers a platform could have, best first (CPU always last, always present). */
export function platformProviders(platform: NodeJS.Platform = process.platform): ProviderName[] {
  switch (platform) {
    case 'linux':
      return ['cuda', 'webgpu', 'cpu'];
    case 'win32':
      return ['cuda', 'dml', 'webgpu', 'cpu'];
    case 'darwin':
      return ['coreml', 'webgpu', 'cpu'];
    default:
      return ['cpu'];
  }
}

/** The folder holding onnxruntime-node's native binding, where opt-in provider libraries are installed too. */
function bindingDir(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('onnxruntime-node');
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** File names of the CUDA provider library per platform (onnxruntime-node's opt-in download). */
const CUDA_LIBRARY: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'libonnxruntime_providers_cuda.so',
  win32: 'onnxruntime_providers_cuda.dll',
};

/**
 * Why `name` cannot even be tried on this machine, or null when a session may be attempted.
 * Checked before creating a session because a missing provider library makes ORT log noisy errors to stderr.
 */
export function unavailableReason(name: ProviderName, platform: NodeJS.Platform = process.platform): string | null {
  if (!platformProviders(platform).includes(name)) return `not available on ${platform}`;
  if (name === 'cpu') return null;
  const backend = listSupportedBackends().find((b) => b.name === name);
  if (backend === undefined) return `not built into this onnxruntime-node for ${platform}/${process.arch}`;
  if (name === 'cuda' && !backend.bundled) {
    const lib = CUDA_LIBRARY[platform];
    if (lib === undefined || !existsSync(join(bindingDir(), lib))) {
      return 'CUDA provider binaries are not installed (an opt-in download: npm run setup:cuda)';
    }
  }
  return null;
}

/**
 * Turns an ORT session-creation error into a one-line reason a user can read: the native source location and
 * assertion text are dropped, the message ORT meant for people is kept.
 */
export function describeProviderError(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const line = raw.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? 'unknown error';
  const afterAssert = /\bwas false\.\s*(.+)$/.exec(line);
  let text = afterAssert?.[1] ?? line;
  const adapter = /Failed to get a WebGPU adapter:?\s*(.*)$/i.exec(text);
  if (adapter) text = adapter[1] ? `no adapter (${adapter[1]})` : 'no adapter';
  else if (/Failed to load shared library/i.test(text)) text = `its libraries could not be loaded (${text})`;
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
