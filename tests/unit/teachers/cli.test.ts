// `effects-studio teacher make-tiny | import | sample`, run as the real command (bin/effects-studio.js).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeSafetensors } from '../../../src/main/engine/safetensors/index.ts';
import { makeRandomTeacherWeights, toNvidiaTensors } from '../../../src/main/engine/teacher/index.ts';
import { makeTempDir } from '../core/temp-dir.ts';
import { buildOnnxGenerator } from './onnx-fixture.ts';
import { runCli, type CliResult } from '../support/cli.ts';

const tmp = makeTempDir();
afterAll(() => tmp.cleanup());

function cli(args: readonly string[]): Promise<CliResult> {
  return runCli(args, { cwd: tmp.dir, home: join(tmp.dir, 'home') });
}

interface SamplesJson {
  psi: number;
  resolution: number;
  samples: { seed: number; file: string; ws: number[][] }[];
}

describe('effects-studio teacher', () => {
  it('makes the tiny teacher, imports it, and samples it by name and by file to the same PNGs', async () => {
    const made = await cli(['teacher', 'make-tiny', '--out', 'tiny.safetensors']);
    expect(made.code, made.stderr).toBe(0);
    const imported = await cli(['teacher', 'import', 'tiny.safetensors', '--name', 'Tiny']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ name: 'Tiny', format: 'nvidia', architecture: { resolution: 32, mappingLayers: 2 } });

    const byName = await cli(['teacher', 'sample', '--teacher', 'Tiny', '--count', '5', '--psi', '0.7', '--seed', '20', '--out', 'a']);
    expect(byName.code, byName.stderr).toBe(0);
    const byFile = await cli(['teacher', 'sample', '--teacher', 'tiny.safetensors', '--count', '3', '--psi', '0.7', '--seed', '22', '--out', 'b']);
    expect(byFile.code, byFile.stderr).toBe(0);

    const a = JSON.parse(readFileSync(join(tmp.dir, 'a', 'samples.json'), 'utf8')) as SamplesJson;
    expect(a.samples.map((s) => s.seed)).toEqual([20, 21, 22, 23, 24]);
    expect(a.samples[0]!.ws).toHaveLength(8);
    expect(a.samples[0]!.ws[0]).toHaveLength(32);
    expect(readdirSync(join(tmp.dir, 'a')).filter((f) => f.endsWith('.png'))).toHaveLength(5);
    expect(readFileSync(join(tmp.dir, 'b', 'seed000022.png'))).toEqual(readFileSync(join(tmp.dir, 'a', 'seed000022.png')));
    const b = JSON.parse(readFileSync(join(tmp.dir, 'b', 'samples.json'), 'utf8')) as SamplesJson;
    expect(b.samples[0]!.ws).toEqual(a.samples[2]!.ws);
  });

  it('imports a plain ONNX generator with its I/O declared and samples it by name with its z latents', async () => {
    writeFileSync(join(tmp.dir, 'box.onnx'), buildOnnxGenerator({ dim: 8, resolution: 8 }));
    const undeclared = await cli(['teacher', 'import', 'box.onnx', '--name', 'Box']);
    expect(undeclared.code).toBe(1);
    expect(undeclared.stderr).toMatch(/needs its I\/O declared: missing --onnx-input, --onnx-input-name, --onnx-dim, --onnx-output, --onnx-range/);
    const flags = ['--onnx-input', 'z', '--onnx-input-name', 'z', '--onnx-output', 'image', '--onnx-range', '-1,1'];
    const wrongDim = await cli(['teacher', 'import', 'box.onnx', '--name', 'Box', ...flags, '--onnx-dim', '64']);
    expect(wrongDim.code).toBe(1);
    expect(wrongDim.stderr).toMatch(/input "z" float32\[1,8\] does not match the declared latent: expected float32\[batch,64\]/);
    const imported = await cli(['teacher', 'import', 'box.onnx', '--name', 'Box', ...flags, '--onnx-dim', '8']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ name: 'Box', format: 'onnx', styleSpace: false, resolution: 8, onnx: { input: 'z', dim: 8 } });

    const truncated = await cli(['teacher', 'sample', '--teacher', 'Box', '--count', '2', '--psi', '0.7', '--out', 'box-psi']);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toMatch(/ψ must be 1/);
    const sampled = await cli(['teacher', 'sample', '--teacher', 'Box', '--count', '3', '--seed', '5', '--out', 'box']);
    expect(sampled.code, sampled.stderr).toBe(0);
    const json = JSON.parse(readFileSync(join(tmp.dir, 'box', 'samples.json'), 'utf8')) as { psi: number; samples: { seed: number; z: number[] }[] };
    expect(json.psi).toBe(1);
    expect(json.samples.map((s) => s.seed)).toEqual([5, 6, 7]);
    expect(json.samples[0]!.z).toHaveLength(8);
    expect(readdirSync(join(tmp.dir, 'box')).filter((f) => f.endsWith('.png'))).toHaveLength(3);
  });

  it('refuses a broken file naming the tensor, and a ψ out of range', async () => {
    const tensors = toNvidiaTensors(makeRandomTeacherWeights());
    tensors.delete('mapping.fc1.bias');
    writeFileSync(join(tmp.dir, 'broken.safetensors'), serializeSafetensors(tensors));
    const broken = await cli(['teacher', 'import', 'broken.safetensors', '--name', 'Broken']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/mapping\.fc1\.bias/);
    const psi = await cli(['teacher', 'sample', '--teacher', 'x', '--count', '1', '--psi', '2.5', '--out', 'c']);
    expect(psi.code).toBe(1);
    expect(psi.stderr).toMatch(/ψ must be a number in \[-2, 2\], got "2\.5"/);
  });
});
