// Entry of the product's job worker thread (bundled to out/main/job-worker.js): one runner per job kind.
import type { JobKind, JobParams, JobResults } from '../../shared/contract.ts';
import { runDeviceCheck } from './runners/device-check.ts';
import { runJobWorker, type JobRunner } from './runtime.ts';

// Every kind in the contract needs a runner: a new kind without one is a compile error here.
const runners: { [K in JobKind]: JobRunner<JobParams[K], JobResults[K]> } = {
  'device-check': runDeviceCheck,
};

runJobWorker(runners);
