// The product job worker end to end: a device check runs ONNX Runtime in a worker thread and its report is kept.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceReport, JobInfo } from '../../../src/shared/contract.ts';
import { Studio } from '../../../src/main/services/studio.ts';
import { makeTempDir } from '../core/temp-dir.ts';

let temp: ReturnType<typeof makeTempDir>;
let studio: Studio;

beforeEach(async () => {
  temp = makeTempDir();
  studio = await Studio.open({ dataDir: temp.dir, host: 'browser', version: '0.0.0-test' });
});
afterEach(async () => {
  await studio.close();
  temp.cleanup();
});

describe('device-check job (product worker)', () => {
  it('probes the CPU provider in a worker and answers the report from devices:last', async () => {
    const progress: string[] = [];
    const finished = new Promise<JobInfo>((resolve) => {
      studio.onEvent((_, job) => {
        progress.push(job.progress.message);
        if (job.status !== 'queued' && job.status !== 'running') resolve(job);
      });
    });
    const started = await studio.handle('jobs:start', [{ kind: 'device-check', params: { providers: ['cpu', 'webgpu'] } }]);
    expect(started.ok).toBe(true);
    const job = await finished;
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    const report = job.result as DeviceReport;
    expect(report.providers.map((p) => p.name)).toEqual(['cpu', 'webgpu']);
    const cpu = report.providers[0]!;
    expect(cpu.available).toBe(true);
    expect(cpu.ms).toBeGreaterThan(0);
    const webgpu = report.providers[1]!;
    // No GPU on build machines: then it must say why.
    if (!webgpu.available) expect(webgpu.reason).toBeTruthy();
    expect(job.progress.step).toBe(2);
    expect(await studio.handle('devices:last', [])).toEqual({ ok: true, value: report });
  });
});
