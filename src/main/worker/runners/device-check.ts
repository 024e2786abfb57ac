// The `device-check` job: probes every ONNX Runtime execution provider by running a small model on it.
import type { DeviceReport, JobParams } from '../../../shared/contract.ts';
import { probeProviders } from '../../engine/runtime/index.ts';
import type { JobRunner } from '../runtime.ts';

/** Runs the probe in the worker (session.run blocks its thread), forwarding progress and cancellation. */
export const runDeviceCheck: JobRunner<JobParams['device-check'], DeviceReport> = ({ params, signal, progress }) =>
  probeProviders({
    ...(params.providers ? { providers: params.providers } : {}),
    signal,
    onProgress: (step, total, message) => progress(step, total, message),
  });
