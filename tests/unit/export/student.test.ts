// A real student (src/main/student), trained a few steps with the engine's trainer, exported with fp16 and verified.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { l1Loss } from '../../../src/main/engine/losses/index.ts';
import { compileTrainProgram, Trainer } from '../../../src/main/engine/train/index.ts';
import { verifyPackage } from '../../../src/main/export/verify.ts';
import { writePackage } from '../../../src/main/export/writer.ts';
import { buildStudentGraph, deployableStudentModel, STUDENT_OUTPUT } from '../../../src/main/student/model.ts';
import type { StudentConfig } from '../../../src/shared/student/types.ts';
import { makePhoto, makeSource, tempDir } from './helpers.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const CONFIG: StudentConfig = { size: 64, width: 0.25, activation: 'relu6', residualScale: 0.5 };
const BATCH = 2;

describe('exporting a trained student', () => {
  it('trains a few steps, exports fp32 + fp16 and verifies the package', async () => {
    const { graph, input, output } = buildStudentGraph(CONFIG, { batch: BATCH, seed: 1 });
    const target = graph.input('target', 'float32', input.shape);
    const program = compileTrainProgram({
      graph,
      loss: l1Loss(graph, output, target),
      forwardOutputs: [STUDENT_OUTPUT],
      optimizer: { kind: 'adam' },
    });
    const trainer = await Trainer.create(program, { session: { providers: ['cpu'] } });
    const n = BATCH * 3 * CONFIG.size * CONFIG.size;
    const x = new Float32Array(n).map((_, i) => 0.5 + 0.4 * Math.sin(i * 0.013));
    // The effect to learn: a darker, bluer image.
    const y = x.map((v, i) => Math.min(1, v * 0.8 + (Math.floor(i / (CONFIG.size * CONFIG.size)) % 3 === 2 ? 0.15 : 0)));
    const losses: number[] = [];
    for (let step = 0; step < 6; step++) losses.push((await trainer.step({ image: x, target: y }, 1e-2)).loss);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    const weights = await trainer.weights();

    const source = await makeSource(await deployableStudentModel(CONFIG, weights));
    const out = join(tmp.dir, 'student.fxpkg');
    const written = await writePackage(
      { ...source, valueRange: [0, 1], previewImages: [await makePhoto(80, 64, 0), await makePhoto(64, 64, 2)] },
      { out, fp16: true, studioVersion: '0.1.0' },
    );
    expect(written.manifest.io.input).toEqual({ name: 'image', dtype: 'float32', shape: [1, 3, 64, 64] });
    expect(written.manifest.variants[1]!.maxAbsDiffVsFp32).toBeLessThan(1e-2);
    const report = await verifyPackage(out);
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
