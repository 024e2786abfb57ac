// Human-readable labels for job kinds, statuses, times and durations.
import type { DeviceReport, JobInfo, JobKind, JobStatus, ProviderName } from '../../../shared/contract.ts';
import type { ImportReport } from '../../../shared/datasets/types.ts';
import type { TeacherInfo, TeacherPreviewResult, TeacherSampleResult } from '../../../shared/teachers/types.ts';
import type { ExportEstimate, ExportInfo, PackageSummary } from '../../../shared/export/types.ts';
import type { StudentTrainResult } from '../../../shared/student/types.ts';
import type { ClipModelInfo, EffectPairsResult, EffectPreviewResult, RelevanceResult } from '../../../shared/effects/types.ts';

/** What each job kind is called in the UI. */
export const JOB_KIND_LABELS: Readonly<Record<JobKind, string>> = {
  'device-check': 'Device check',
  'clip-import': 'CLIP import',
  'effects-relevance': 'Channel relevance',
  'effects-preview': 'Edit preview',
  'effects-pairs': 'Generate pairs',
  'dataset-import': 'Dataset import',
  'teacher-import': 'Teacher import',
  'teacher-preview': 'Teacher samples',
  'teacher-sample': 'Save samples as dataset',
  'export-package': 'Export package',
  'export-verify': 'Verify package',
  'export-estimate': 'Measure export',
  'student-train': 'Train student',
};

/** What each job status is called in the UI. */
export const JOB_STATUS_LABELS: Readonly<Record<JobStatus, string>> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

/** What each execution provider is called in the UI. */
export const PROVIDER_LABELS: Readonly<Record<ProviderName, string>> = {
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'CoreML',
  webgpu: 'WebGPU',
  cpu: 'CPU',
};

/** A local date and time for an ISO-8601 string. */
export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A short duration between two ISO-8601 times, e.g. `1.4 s` or `3 min 5 s`. */
export function formatDuration(fromIso: string, toIso: string): string {
  const ms = Math.max(0, Date.parse(toIso) - Date.parse(fromIso));
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Milliseconds with a precision that suits their size. */
export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

/** One line saying what a finished job produced, or null when there is nothing to say. */
export function jobResultSummary(job: JobInfo): string | null {
  if (job.status !== 'succeeded' || job.result === null) return null;
  switch (job.kind) {
    case 'device-check': {
      const report = job.result as DeviceReport;
      const available = report.providers.filter((provider) => provider.available).length;
      return `Preferred provider: ${PROVIDER_LABELS[report.preferred]} · ${available} of ${report.providers.length} available`;
    }
    case 'dataset-import': {
      const { counts } = job.result as ImportReport;
      return `${counts.imported} imported · ${counts.duplicate} duplicate · ${counts.error} failed · ${counts.withFace} with a face`;
    }
    case 'teacher-import': {
      const t = job.result as TeacherInfo;
      return `Teacher "${t.name}": ${t.resolution}×${t.resolution}, ${t.parameterCount.toLocaleString()} parameters${t.styleSpace ? '' : ' (ONNX generator)'}`;
    }
    case 'teacher-preview': {
      const r = job.result as TeacherPreviewResult;
      return `${r.images.length} samples on ${PROVIDER_LABELS[r.provider]}`;
    }
    case 'teacher-sample': {
      const r = job.result as TeacherSampleResult;
      return `${r.count} samples saved as dataset "${r.datasetName}" (${PROVIDER_LABELS[r.provider]})`;
    }
    case 'export-package': {
      const e = job.result as ExportInfo;
      return `Package "${e.name}" (${e.variants.join(' + ')}, ${e.size.toLocaleString()} bytes) at ${e.path}`;
    }
    case 'export-verify': {
      const s = job.result as PackageSummary;
      return `${s.ok ? 'Verified' : 'Refused'}: ${s.path}`;
    }
    case 'export-estimate': {
      const e = job.result as ExportEstimate;
      return `${e.fp32Bytes.toLocaleString()} bytes (fp16 ${e.fp16Bytes.toLocaleString()}) · ${e.medianMs.toFixed(1)} ms per frame on ${e.provider}`;
    }
    case 'clip-import': {
      const c = job.result as ClipModelInfo;
      return `CLIP model "${c.name}": ${c.dim}-d embeddings, ${c.imageSize.width}×${c.imageSize.height} images`;
    }
    case 'effects-relevance': {
      const r = job.result as RelevanceResult;
      return `Relevance of ${r.channels.toLocaleString()} channels over ${r.images} images (${PROVIDER_LABELS[r.provider]})`;
    }
    case 'effects-preview': {
      const r = job.result as EffectPreviewResult;
      return `${r.images.length} seeds edited; ${r.touched} of ${r.channels} channels moved (${PROVIDER_LABELS[r.provider]})`;
    }
    case 'effects-pairs': {
      const r = job.result as EffectPairsResult;
      return `${r.count} pairs saved as dataset "${r.datasetName}" (${PROVIDER_LABELS[r.provider]})`;
    }
    case 'student-train': {
      const r = job.result as StudentTrainResult;
      const best = r.best ? ` · best ${r.best.psnr.toFixed(2)} dB PSNR at step ${r.best.step}` : '';
      return `Run ${r.runId}: ${r.steps.toLocaleString()} steps on ${r.provider}${best}${r.stoppedEarly ? ' (stopped early)' : ''}`;
    }
  }
}
