// Entry of the product's job worker thread (bundled to out/main/job-worker.js): one runner per job kind.
import type { JobKind, JobParams, JobResults } from '../../shared/contract.ts';
import { runClipImport } from './runners/clip-import.ts';
import { runDatasetImport } from './runners/dataset-import.ts';
import { runDeviceCheck } from './runners/device-check.ts';
import { runEffectsPairs } from './runners/effects-pairs.ts';
import { runEffectsPreview } from './runners/effects-preview.ts';
import { runEffectsRelevance } from './runners/effects-relevance.ts';
import { runExportEstimate } from './runners/export-estimate.ts';
import { runExportPackage } from './runners/export-package.ts';
import { runExportVerify } from './runners/export-verify.ts';
import { runStudentTrain } from './runners/student-train.ts';
import { runTeacherImport } from './runners/teacher-import.ts';
import { runTeacherPreview } from './runners/teacher-preview.ts';
import { runTeacherSample } from './runners/teacher-sample.ts';
import { runJobWorker, type JobRunner } from './runtime.ts';

// Every kind in the contract needs a runner: a new kind without one is a compile error here.
const runners: { [K in JobKind]: JobRunner<JobParams[K], JobResults[K]> } = {
  'device-check': runDeviceCheck,
  'clip-import': runClipImport,
  'effects-relevance': runEffectsRelevance,
  'effects-preview': runEffectsPreview,
  'effects-pairs': runEffectsPairs,
  'dataset-import': runDatasetImport,
  'teacher-import': runTeacherImport,
  'teacher-preview': runTeacherPreview,
  'teacher-sample': runTeacherSample,
  'export-package': runExportPackage,
  'export-verify': runExportVerify,
  'export-estimate': runExportEstimate,
  'student-train': runStudentTrain,
};

runJobWorker(runners);
