// Public entry of the runtime: the studio's one ONNX Runtime session factory and the device probe.
export { foldConstants } from './fold.ts';
export {
  createSession,
  median,
  NoProviderError,
  Session,
  TIMING_WINDOW,
  type CreateSessionOptions,
  type Feeds,
  type Fetched,
  type RunTimings,
  type SkippedProvider,
} from './session.ts';
export { describeProviderError, platformProviders, PROVIDER_ORDER, unavailableReason } from './providers.ts';
export { probeProviders, type ProbeOptions } from './probe.ts';
export { buildProbeModel, PROBE_INPUT, PROBE_INPUT_SHAPE, PROBE_OUTPUT } from './probe-model.ts';
export { summarizeProfile, type ProfileEntry, type ProfileSummary } from './profile.ts';
