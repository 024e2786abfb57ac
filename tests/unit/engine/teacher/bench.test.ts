// Smoke run of the teacher benchmark on a tiny generator: the report has the fields `bench teacher --json` prints.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runTeacherBench } from '../../../../src/main/bench/teacher.ts';

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import numpy, torch'], { encoding: 'utf8' }).status === 0;

describe('teacher benchmark', () => {
  it('reports images per second, the provider and, with torch, the PyTorch twin and the ratio', async () => {
    const report = await runTeacherBench({
      batches: 1,
      batch: 2,
      threads: 1,
      providers: ['cpu'],
      generator: { resolution: 16, mappingLayers: 2, zDim: 32, wDim: 32, channelBase: 256, channelMax: 16 },
    });
    expect(report).toMatchObject({ bench: 'teacher', batch: 2, batches: 1, threads: 1, provider: 'cpu', generator: { resolution: 16, mappingLayers: 2 } });
    expect(report.images_per_s).toBeGreaterThan(0);
    if (hasTorch) {
      expect(report.torch).toMatchObject({ available: true, resolution: 16, batch: 2, fused_modconv: false });
      expect(report.ratio).toBeGreaterThan(0);
    } else {
      expect(report.torch).toMatchObject({ available: false });
    }
  });
});
