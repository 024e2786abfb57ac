// Helpers shared by the job and studio tests: the test worker and waiting on job events.
import type { JobManager } from '../../../src/main/jobs/job-manager.ts';
import type { JobRecord } from '../../../src/main/jobs/job-store.ts';

/** The test worker entry (tests/unit/jobs/fixtures/test-worker.ts). */
export const TEST_WORKER_URL = new URL('./fixtures/test-worker.ts', import.meta.url);

/** Resolves with the first state of job `id` (current or a later event) that satisfies `predicate`. */
export function waitForJob(manager: JobManager, id: string, predicate: (job: JobRecord) => boolean): Promise<JobRecord> {
  return new Promise((resolve) => {
    const off = manager.onChange((job) => {
      if (job.id === id && predicate(job)) {
        off();
        resolve(job);
      }
    });
    const now = manager.get(id);
    if (now && predicate(now)) {
      off();
      resolve(now);
    }
  });
}

/** True once the job reached a final state. */
export function isFinal(job: JobRecord): boolean {
  return job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled';
}
