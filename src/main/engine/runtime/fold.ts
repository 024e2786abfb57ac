// Constant folding by ONNX Runtime's basic optimiser: weight-only subgraphs computed once, the result in standard ONNX ops.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

/**
 * Returns `model` with every subgraph that depends only on initializers replaced by its value (e.g. a student head's
 * phase kernels computed from its weight), as written by ORT's `basic` level: constant folding and redundant-node
 * elimination, no provider-specific ops, so the result runs on every runtime. A deployable model then needs no
 * weight arithmetic at load time, which matters for fp16 copies: ORT cannot fold float16 MatMuls on a CPU.
 */
export async function foldConstants(model: Uint8Array): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'studio-fold-'));
  try {
    const file = join(dir, 'folded.onnx');
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'basic',
      optimizedModelFilePath: file,
      intraOpNumThreads: 1,
      logSeverityLevel: 3,
    }).catch((error: unknown) => {
      throw new Error(`constant folding: ONNX Runtime cannot load the model: ${error instanceof Error ? error.message : String(error)}`);
    });
    await session.release();
    return new Uint8Array(readFileSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
