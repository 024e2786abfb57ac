// `bench live` runs the real pipeline on both backends and reports every stage; the speed itself is the benchmark's business.
import { describe, expect, it } from 'vitest';
import { runLiveBench } from '../../../src/main/bench/live.ts';

describe('bench live', () => {
  it('times every stage on onnxruntime-node and onnxruntime-web, finding the face in every frame', async () => {
    const report = (await runLiveBench({ frames: 2, threads: 1 })) as {
      backends: { backend: string; facesFound: string; stagesMs: Record<string, { median: number; p90: number }> }[];
      fastest: string;
      student: { size: number };
    };
    expect(report.student.size).toBe(256);
    expect(report.backends.map((b) => b.backend)).toEqual(['onnxruntime-node', 'onnxruntime-web']);
    for (const b of report.backends) {
      expect(b.facesFound).toBe('2/2');
      expect(Object.keys(b.stagesMs)).toEqual(['capture', 'detect', 'student', 'composite', 'endToEnd']);
      expect(b.stagesMs.student!.median).toBeGreaterThan(0);
      expect(b.stagesMs.endToEnd!.median).toBeGreaterThanOrEqual(b.stagesMs.student!.median);
    }
    expect(report.backends.map((b) => b.backend)).toContain(report.fastest);
  }, 120_000);
});
