// Teacher benchmark: images per second of a 256² config-f-sized StyleGAN2 (random weights, batch 8) on ONNX Runtime,
// and of the same generator in PyTorch (bench/torch/teacher.py) where Debian's python3-torch is installed.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ProviderName } from '../../shared/contract.ts';
import { createSession, median } from '../engine/runtime/index.ts';
import { CONFIG_F_256, sampleLatents, Teacher, writeRandomTeacher, type RandomTeacherOptions } from '../engine/teacher/index.ts';
import { alternateRounds, timeSteps, TorchTwin } from './torch-twin.ts';

/** Options of the teacher benchmark; the defaults are the published configuration. */
export interface TeacherBenchOptions {
  /** Measured batches after one warm-up batch (default 2: a config-f batch takes seconds on a CPU). */
  batches?: number;
  /** Intra-op threads of both runtimes (default: all logical cores). */
  threads?: number;
  /** Images per batch (default 8). */
  batch?: number;
  /** Generator shape (default config-f at 256²); smaller ones make a quick smoke run. */
  generator?: RandomTeacherOptions;
  /** Providers to try, best first (default: the platform's order). */
  providers?: readonly ProviderName[];
  /** Run the PyTorch twin when python3 with torch is present (default true). */
  torch?: boolean;
}

/**
 * Measures the teacher: builds the generator from a seeded random weights file, runs one warm-up and `batches`
 * timed batches on the best provider, and (where possible) the same file and latents in PyTorch, one batch of each in
 * turn so that both see the same machine load.
 * `ratio` = PyTorch images/s ÷ ONNX Runtime images/s is the time ratio ORT / PyTorch: ≤ 1 means the studio is
 * at least as fast.
 */
export async function runTeacherBench(opts: TeacherBenchOptions = {}): Promise<Record<string, unknown>> {
  const batches = opts.batches ?? 2;
  const batch = opts.batch ?? 8;
  const threads = opts.threads ?? availableParallelism();
  const generator = { ...CONFIG_F_256, ...opts.generator };
  const dir = mkdtempSync(join(tmpdir(), 'teacher-bench-'));
  try {
    const weightsPath = join(dir, 'generator.safetensors');
    let t = performance.now();
    const teacher = new Teacher(await writeRandomTeacher(weightsPath, generator));
    const weightsMs = performance.now() - t;
    t = performance.now();
    const model = teacher.buildGeneratorGraph({ batch });
    const buildMs = performance.now() - t;
    t = performance.now();
    const session = await createSession(model.bytes, {
      ...(opts.providers !== undefined ? { providers: opts.providers } : {}),
      threads,
    });
    const sessionMs = performance.now() - t;
    const { zDim } = teacher.config;
    const feeds = {
      z: new ort.Tensor('float32', sampleLatents(0, batch, zDim), [batch, zDim]),
      psi: new ort.Tensor('float32', Float32Array.of(0.7), [1]),
    };
    const ortBatch = async (): Promise<number> => {
      const start = performance.now();
      await session.run(feeds);
      return performance.now() - start;
    };
    let timed: { ort: number[]; torch: number[] | null };
    let twinReport: Record<string, unknown> | null = null;
    try {
      await ortBatch();
      const twin = (opts.torch ?? true)
        ? await TorchTwin.start('teacher.py', ['bench', '--weights', weightsPath, '--batch', String(batch), '--fused', '0'], threads)
        : null;
      if (twin instanceof TorchTwin) {
        // fused_modconv=False: of NVIDIA's two modulated-conv paths, the faster one on a CPU (and the studio's own algorithm).
        timed = await alternateRounds(batches, 1, ortBatch, twin, 0).finally(() => twin.close());
        twinReport = { available: true, ...twin.info };
      } else {
        timed = { ort: await timeSteps(batches, ortBatch), torch: null };
        if (twin !== null) twinReport = { available: false, reason: twin.note };
      }
    } finally {
      await session.release();
    }
    const times = timed.ort;
    const totalMs = times.reduce((a, b) => a + b, 0);
    const imagesPerS = (batch * batches * 1000) / totalMs;
    const result: Record<string, unknown> = {
      bench: 'teacher',
      generator: {
        resolution: teacher.config.resolution,
        mappingLayers: teacher.config.mappingLayers,
        channels: teacher.config.channels,
        parameters: teacher.parameterCount,
      },
      batch,
      batches,
      threads,
      provider: session.provider,
      skippedProviders: session.skipped,
      images_per_s: imagesPerS,
      ms_per_batch: totalMs / batches,
      setup_ms: { weights: weightsMs, build_model: buildMs, create_session: sessionMs },
      model_mb: model.bytes.length / 2 ** 20,
    };
    if (twinReport !== null) {
      result.torch = twinReport;
      if (timed.torch !== null) {
        const torchMs = median(timed.torch);
        twinReport.images_per_s = (batch * 1000) / torchMs;
        twinReport.ms_per_batch = torchMs;
        result.ratio = median(times) / torchMs;
      }
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
