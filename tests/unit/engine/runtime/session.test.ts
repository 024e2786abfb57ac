// Session factory: explicit provider fallback with recorded reasons, thread settings, run timings, profiling traces.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph } from '../../../../src/main/engine/graph/index.ts';
import {
  createSession,
  describeProviderError,
  NoProviderError,
  platformProviders,
  unavailableReason,
} from '../../../../src/main/engine/runtime/index.ts';

/** y = relu(x·W + b) with known weights, so outputs can be checked by hand. */
function linearReluModel(): { bytes: Uint8Array; expected: (x: number[]) => number[] } {
  const w = [1, -2, 0.5, 3, -1, 2];
  const b = [0.25, -0.5];
  const g = new Graph('linear-relu');
  const x = g.input('x', 'float32', [1, 3]);
  const W = g.param('w', [3, 2], { kind: 'values', data: w });
  const B = g.param('b', [2], { kind: 'values', data: b });
  g.output('y', g.relu(g.add(g.matmul(x, W), B)));
  const expected = (xs: number[]): number[] =>
    [0, 1].map((j) => Math.max(0, xs.reduce((s, xi, i) => s + xi * w[i * 2 + j]!, 0) + b[j]!));
  return { bytes: g.toModelBytes({ params: 'initializers' }), expected };
}

const model = linearReluModel();
const tmp = mkdtempSync(join(tmpdir(), 'runtime-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('createSession', () => {
  it('falls back from WebGPU to CPU and records why WebGPU was skipped', async () => {
    const s = await createSession(model.bytes, { providers: ['webgpu', 'cpu'] });
    try {
      if (s.provider === 'webgpu') {
        // A machine with a WebGPU adapter: nothing was skipped.
        expect(s.skipped).toEqual([]);
      } else {
        expect(s.provider).toBe('cpu');
        expect(s.skipped.map((k) => k.name)).toEqual(['webgpu']);
        expect(s.skipped[0]!.reason.length).toBeGreaterThan(0);
        // The reason is a readable line, not a native assertion with a source path.
        expect(s.skipped[0]!.reason).not.toMatch(/\.cc:\d+/);
      }
    } finally {
      await s.release();
    }
  });

  it('skips providers this platform cannot have, with the reason, and still computes the right values', async () => {
    const foreign = process.platform === 'win32' ? 'coreml' : 'dml';
    const s = await createSession(model.bytes, { providers: [foreign, 'cpu'], threads: 1, shareCores: true });
    try {
      expect(s.provider).toBe('cpu');
      expect(s.threads).toBe(1);
      expect(s.skipped).toEqual([{ name: foreign, reason: `not available on ${process.platform}` }]);
      const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from([0.5, -1, 2]), [1, 3]) });
      const y = Array.from(out.y!.data as Float32Array);
      model.expected([0.5, -1, 2]).forEach((v, i) => expect(y[i]).toBeCloseTo(v, 6));
    } finally {
      await s.release();
    }
  });

  it('throws NoProviderError naming every provider and its reason when none can load the model', async () => {
    const foreign = process.platform === 'win32' ? 'coreml' : 'dml';
    const err = await createSession(model.bytes, { providers: [foreign] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoProviderError);
    expect((err as NoProviderError).message).toContain(`${foreign}: not available on ${process.platform}`);
  });

  it('reports a model that no provider can parse as an error, not a crash', async () => {
    const err = await createSession(Uint8Array.from([1, 2, 3, 4]), { providers: ['cpu'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoProviderError);
    expect((err as NoProviderError).skipped[0]!.name).toBe('cpu');
  });

  it('rejects a nonsensical thread count', async () => {
    await expect(createSession(model.bytes, { threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
  });

  it('times every run and calls the onRun hook', async () => {
    const seen: number[] = [];
    const s = await createSession(model.bytes, { providers: ['cpu'], onRun: (ms) => seen.push(ms) });
    try {
      expect(s.timings()).toEqual({ runs: 0, lastMs: null, medianMs: null, totalMs: 0 });
      const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [1, 3]);
      for (let i = 0; i < 3; i++) await s.run({ x });
      const t = s.timings();
      expect(t.runs).toBe(3);
      expect(seen).toHaveLength(3);
      expect(t.lastMs).toBe(seen[2]);
      expect(t.totalMs).toBeCloseTo(seen.reduce((a, b) => a + b, 0), 9);
      expect(t.medianMs).toBe([...seen].sort((a, b) => a - b)[1]);
    } finally {
      await s.release();
    }
  });

  it('writes an ORT profile trace naming the ops that ran', async () => {
    const s = await createSession(model.bytes, { providers: ['cpu'], profilePrefix: join(tmp, 'prof') });
    await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [1, 3]) });
    const path = s.endProfiling();
    await s.release();
    expect(path.startsWith(join(tmp, 'prof_'))).toBe(true);
    const events = JSON.parse(readFileSync(path, 'utf8')) as { cat: string; args?: { provider?: string } }[];
    const nodes = events.filter((e) => e.cat === 'Node');
    expect(nodes.length).toBeGreaterThan(0);
    expect(nodes.every((e) => e.args?.provider === 'CPUExecutionProvider')).toBe(true);
  });
});

describe('providers', () => {
  it('lists the platform preference order with CPU last', () => {
    expect(platformProviders('linux')).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(platformProviders('win32')).toEqual(['cuda', 'dml', 'webgpu', 'cpu']);
    expect(platformProviders('darwin')).toEqual(['coreml', 'webgpu', 'cpu']);
    expect(unavailableReason('cpu')).toBeNull();
  });

  it('turns native ORT errors into one readable line', () => {
    const webgpu =
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';
    expect(describeProviderError(new Error(webgpu))).toBe('no adapter (No supported adapters)');
    expect(describeProviderError(new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'))).toBe(
      'its libraries could not be loaded (OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library)',
    );
  });
});
