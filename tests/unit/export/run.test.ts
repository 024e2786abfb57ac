// Exporting a trained run: the manifest records where the student came from, previews are the run's validation
// images, fp16 stays within tolerance, onnxruntime-web agrees with onnxruntime-node, and `export --run` works end to end.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetStore } from '../../../src/main/datasets/store.ts';
import { ExportError } from '../../../src/main/export/errors.ts';
import { MODEL_FILE } from '../../../src/main/export/manifest.ts';
import { chooseCheckpoint } from '../../../src/main/export/run-checkpoint.ts';
import { datasetSha256, runCheckpointModel, runSource } from '../../../src/main/export/run-source.ts';
import { verifyPackage } from '../../../src/main/export/verify.ts';
import { FP16_TOLERANCE, writePackage } from '../../../src/main/export/writer.ts';
import { listPairs } from '../../../src/main/student/data.ts';
import { Studio } from '../../../src/main/services/studio.ts';
import { buildStudentGraph, countMacs } from '../../../src/main/student/model.ts';
import { RunStore } from '../../../src/main/student/runs.ts';
import type { JobInfo } from '../../../src/shared/contract.ts';
import type { ExportEstimate, ExportPackageParams } from '../../../src/shared/export/types.ts';
import type { RunDetail } from '../../../src/shared/student/types.ts';
import { fixtureParams, makeTrainedRun, PROMPT, type TrainedRun } from './run-fixture.ts';
import { buildTinyStudent, tempDir } from './helpers.ts';
import { runCli, type CliResult } from '../support/cli.ts';

const tmp = tempDir();
let fixture: TrainedRun;
let run: RunDetail;

beforeAll(async () => {
  fixture = await makeTrainedRun(join(tmp.dir, 'data'));
  run = new RunStore(fixture.db).get(fixture.result.runId);
}, 120_000);
afterAll(() => {
  fixture?.db.close();
  tmp.cleanup();
});

function cli(args: readonly string[]): Promise<CliResult> {
  return runCli(args, { cwd: tmp.dir, home: fixture.dataDir });
}

describe('exporting a training run', () => {
  it('picks the asked-for checkpoint, else the best by validation PSNR, and lists the steps when one is missing', () => {
    expect(run.checkpoints.map((c) => c.step)).toEqual([3, 6]);
    expect(chooseCheckpoint(run, 3).step).toBe(3);
    const psnr = run.metrics['validation/psnr']!;
    const bestStep = psnr.reduce((a, b) => (b.value > a.value ? b : a)).step;
    expect(chooseCheckpoint(run).step).toBe(bestStep);
    expect(() => chooseCheckpoint(run, 4)).toThrow(new ExportError(`run ${run.id} has no checkpoint at step 4; its checkpoints are at steps 3, 6`));
    expect(() => chooseCheckpoint({ ...run, checkpoints: [] })).toThrow(/has no checkpoint yet/);
  });

  it('records the prompt, teacher, dataset, training config and metrics, and packages validation images', async () => {
    const source = await runSource(fixture.db, fixture.blobs, { runId: run.id, checkpointStep: 6 });
    expect(source.prompt).toEqual(PROMPT);
    expect(source.name).toBe(PROMPT.target);
    expect(source.faceCrop).toMatchObject({ detector: 'blazeface-front', alignment: 'ffhq-similarity', size: 64 });
    const split = listPairs(new DatasetStore(fixture.db, fixture.blobs), fixture.datasetId);
    const p = source.provenance;
    expect(p.run).toEqual({ id: String(run.id), checkpoint: run.checkpoints[1]!.sha });
    expect(p.teacher).toEqual({ name: 'tiny', sha256: fixture.teacher.weightsSha256 });
    expect(p.dataset).toEqual({
      name: 'white beard pairs',
      sha256: datasetSha256(split.train, split.validation),
      items: split.train.length + split.validation.length,
      train: split.train.length,
      validation: split.validation.length,
    });
    expect(p.training).toMatchObject({ ...fixtureParams(fixture.datasetId), checkpointStep: 6, metricsStep: 6, provider: 'cpu' });
    const at6 = (name: string): number => run.metrics[`validation/${name}`]!.find((m) => m.step === 6)!.value;
    expect(p.metrics).toEqual({ l1: at6('l1'), psnr: at6('psnr'), ssim: at6('ssim') });
    // The previews are the run's validation inputs, as stored.
    const expected = await Promise.all(split.validation.slice(0, 4).map((v) => fixture.blobs.read(v.imageSha)));
    expect(source.previewImages.map((b) => Buffer.from(b).toString('hex'))).toEqual(expected.map((b) => b.toString('hex')));
  });

  it('exports the checkpoint with fp16 within tolerance, verify accepts it, and onnxruntime-web agrees with onnxruntime-node', async () => {
    const source = await runSource(fixture.db, fixture.blobs, { runId: run.id, description: 'white beard, 6 steps' });
    const out = join(tmp.dir, 'beard.fxpkg');
    const written = await writePackage(source, { out, fp16: true, studioVersion: '0.1.0' });
    const m = written.manifest;
    expect(m.provenance.source).toBe('run');
    expect(m.effect.prompt).toEqual(PROMPT);
    expect(m.io).toEqual({
      input: { name: 'image', dtype: 'float32', shape: [1, 3, 64, 64] },
      output: { name: 'output', dtype: 'float32', shape: [1, 3, 64, 64] },
      layout: 'NCHW',
      colorOrder: 'RGB',
      valueRange: [0, 1],
    });
    expect(m.variants.map((v) => v.precision)).toEqual(['fp32', 'fp16']);
    expect(m.variants[1]!.maxAbsDiffVsFp32).toBeLessThan(FP16_TOLERANCE / 255);
    const report = await verifyPackage(out);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);

    const model = report.entries!.get(MODEL_FILE)!;
    const input = new Float32Array(3 * 64 * 64).map((_, i) => 0.5 + 0.45 * Math.sin(i * 0.037));
    const node = await ortNode.InferenceSession.create(model);
    const web = await ortWeb.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const a = (await node.run({ image: new ortNode.Tensor('float32', input, [1, 3, 64, 64]) }))['output']!.data as Float32Array;
    const b = (await web.run({ image: new ortWeb.Tensor('float32', input, [1, 3, 64, 64]) }))['output']!.data as Float32Array;
    await Promise.all([node.release(), web.release()]);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    expect(a.length).toBe(3 * 64 * 64);
    expect(worst).toBeLessThanOrEqual(1e-4);
  }, 60_000);

  it('refuses a run that does not exist and a checkpoint that does not fit the student', async () => {
    await expect(runSource(fixture.db, fixture.blobs, { runId: 999 })).rejects.toThrow(new ExportError('no training run with id 999'));
    const wider = { ...run, config: { ...run.config, student: { ...run.config.student, width: 0.5 } } };
    // Same checkpoint bytes, a run whose recorded student is wider: the weights' shapes do not fit.
    fixture.db.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify(wider.config), run.id);
    try {
      await expect(runSource(fixture.db, fixture.blobs, { runId: run.id })).rejects.toThrow(/does not fit the run's student: "[^"]+" is F32 \[/);
    } finally {
      fixture.db.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify(run.config), run.id);
    }
  });

  it('`effects-studio export --run` writes a package through the export job and `verify` accepts it', async () => {
    fixture.db.pragma('wal_checkpoint(TRUNCATE)');
    const out = join(tmp.dir, 'cli-beard.fxpkg');
    const exported = await cli(['export', '--run', String(run.id), '--checkpoint', '3', '--out', out, '--fp16', '--name', 'Beard', '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    const info = JSON.parse(exported.stdout) as { path: string; runId: number; checkpoint: string; variants: string[]; name: string };
    expect(info).toMatchObject({ path: out, runId: run.id, checkpoint: run.checkpoints[0]!.sha, variants: ['fp32', 'fp16'], name: 'Beard' });
    const verified = await cli(['verify', out]);
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(/^verified: /m);

    const missing = await cli(['export', '--run', String(run.id), '--checkpoint', '5', '--out', join(tmp.dir, 'none.fxpkg')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`run ${run.id} has no checkpoint at step 5; its checkpoints are at steps 3, 6`);
  }, 120_000);

  it('measures size and speed in an export-estimate job, and exports:create refuses a run it cannot export', async () => {
    fixture.db.pragma('wal_checkpoint(TRUNCATE)');
    const studio = await Studio.open({ dataDir: fixture.dataDir, host: 'browser', version: '0.0.0-test' });
    try {
      const finished = new Promise<JobInfo>((resolve) =>
        studio.onEvent((_, job) => {
          if (job.kind === 'export-estimate' && job.status !== 'queued' && job.status !== 'running') resolve(job);
        }),
      );
      const started = await studio.handle('jobs:start', [{ kind: 'export-estimate', params: { source: { kind: 'run', runId: run.id, checkpointStep: 3 } } }]);
      expect(started.ok).toBe(true);
      const job = await finished;
      expect(job.error).toBeNull();
      const estimate = job.result as ExportEstimate;
      const { graph } = buildStudentGraph(run.config.student);
      const model = (await runCheckpointModel(fixture.db, fixture.blobs, run.id, 3)).model;
      expect(estimate).toMatchObject({
        checkpointStep: 3,
        input: { name: 'image', shape: [1, 3, 64, 64] },
        parameters: graph.params.reduce((n, p) => n + p.init.length, 0),
        macs: countMacs(graph),
        fp32Bytes: model.length,
        provider: 'cpu',
      });
      // Half-precision weights: the fp16 model is a little over half the size.
      expect(estimate.fp16Bytes).toBeLessThan(0.6 * estimate.fp32Bytes);
      expect(estimate.medianMs).toBeGreaterThan(0);

      // A plain model file: its size, the values of its float initializers, no multiply-add count.
      const file = join(tmp.dir, 'tiny.onnx');
      const tiny = buildTinyStudent();
      writeFileSync(file, tiny);
      const fileDone = new Promise<JobInfo>((resolve) =>
        studio.onEvent((_, j) => {
          if (j.kind === 'export-estimate' && j.status !== 'queued' && j.status !== 'running' && j.id !== job.id) resolve(j);
        }),
      );
      expect((await studio.handle('jobs:start', [{ kind: 'export-estimate', params: { source: { kind: 'model', modelPath: file } } }])).ok).toBe(true);
      const fromFile = (await fileDone).result as ExportEstimate;
      // enc 8·3·3·3 + 8, down 8·8·3·3, dec 3·16·3·3 + 3, and the Resize scales (4) and the residual's 0.5, -1 and 1.
      expect(fromFile).toMatchObject({ checkpointStep: null, input: { name: 'image', shape: [1, 3, 32, 32] }, macs: null, fp32Bytes: tiny.length });
      expect(fromFile.parameters).toBe(216 + 8 + 576 + 432 + 3 + 4 + 3);

      const create = (source: ExportPackageParams['source'], extra: Partial<ExportPackageParams> = {}): Promise<unknown> =>
        studio.handle('exports:create', [
          { source, name: 'Beard', description: '', out: join(tmp.dir, 'refused.fxpkg'), fp16: false, colorOrder: 'RGB', valueRange: [0, 1], ...extra },
        ]);
      expect(await create({ kind: 'run', runId: 999, checkpointStep: null })).toMatchObject({
        ok: false,
        error: { code: 'not-found', message: 'exports:create: no training run with id 999' },
      });
      expect(await create({ kind: 'run', runId: run.id, checkpointStep: 7 })).toMatchObject({
        ok: false,
        error: { code: 'not-found', message: expect.stringContaining('has no checkpoint at step 7') },
      });
      expect(await create({ kind: 'run', runId: run.id, checkpointStep: null }, { colorOrder: 'BGR' })).toMatchObject({
        ok: false,
        error: { code: 'invalid-request', message: expect.stringContaining("a run's student takes RGB in [0, 1]") },
      });
    } finally {
      await studio.close();
    }
  }, 60_000);
});
