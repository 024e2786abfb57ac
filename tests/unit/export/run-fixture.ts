// A studio data folder holding a trained student run: tiny teacher, teacher-made pairs carrying their effect, a few steps of training.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { EffectPairProvenance } from '../../../src/shared/effects/types.ts';
import type { StudentTrainParams, StudentTrainResult } from '../../../src/shared/student/types.ts';
import type { TeacherInfo } from '../../../src/shared/teachers/types.ts';
import { BlobStore } from '../../../src/main/core/blob-store.ts';
import { dataDirPaths } from '../../../src/main/core/data-dir.ts';
import { openDatabase, type Database } from '../../../src/main/core/db/database.ts';
import { DatasetStore } from '../../../src/main/datasets/store.ts';
import { TINY_TEACHER, writeRandomTeacher } from '../../../src/main/engine/teacher/index.ts';
import { trainStudent } from '../../../src/main/student/train.ts';
import { TeacherStore } from '../../../src/main/teachers/store.ts';
import { importTeacher } from '../../../src/main/teachers/weights.ts';
import { makePhoto } from './helpers.ts';

/** The edit every pair of the fixture was made with. */
export const PROMPT = { target: 'a face with a white beard', neutral: 'a face', alpha: 3.5, beta: 0.12 };

/** Pairs in the fixture's dataset; a quarter of them are validation items. */
export const PAIRS = 12;

/** The run's settings: a 64×64, width-0.25 student trained 6 steps, validated and checkpointed every 3. */
export function fixtureParams(datasetId: number): StudentTrainParams {
  return {
    datasetId,
    student: { size: 64, width: 0.25, activation: 'relu6', residualScale: 0.5 },
    steps: 6,
    batch: 2,
    lr: 5e-3,
    optimizer: 'adam',
    weightDecay: 0,
    warmupSteps: 0,
    clipGradNorm: 0,
    multiScaleWeight: 0,
    validateEvery: 3,
    checkpointEvery: 3,
    earlyStopPatience: 0,
    validationItems: 4,
    augment: { flip: false, jitter: 0, occluders: 0 },
    seed: 3,
  };
}

/** What {@link makeTrainedRun} made. */
export interface TrainedRun {
  dataDir: string;
  db: Database;
  blobs: BlobStore;
  teacher: TeacherInfo;
  datasetId: number;
  result: StudentTrainResult;
}

/** Creates the data folder `dataDir` (database, blobs), imports the tiny teacher, adds the pairs and trains the run. */
export async function makeTrainedRun(dataDir: string): Promise<TrainedRun> {
  mkdirSync(dataDir, { recursive: true });
  const paths = dataDirPaths(dataDir);
  const db = openDatabase({ file: paths.database });
  const blobs = new BlobStore(db, paths.blobs);
  const teacherFile = join(dataDir, 'tiny-teacher.safetensors');
  await writeRandomTeacher(teacherFile, TINY_TEACHER);
  const teacher = await importTeacher(new TeacherStore(db, blobs), blobs, { path: teacherFile, name: 'tiny' });

  const store = new DatasetStore(db, blobs);
  const dataset = store.createDataset({ name: 'white beard pairs', kind: 'synthetic', validationFraction: 0.25 });
  for (let i = 0; i < PAIRS; i++) {
    const before = await makePhoto(64, 64, i);
    // The effect: a lighter, slightly bluer face.
    const after = await sharp(before).linear([0.8, 0.8, 0.9], [40, 40, 50]).png().toBuffer();
    const [image, thumb, target, targetThumb] = await Promise.all([
      blobs.put(before, 'image'),
      blobs.put(before, 'thumbnail'),
      blobs.put(after, 'image'),
      blobs.put(after, 'thumbnail'),
    ]);
    const provenance: EffectPairProvenance = {
      source: 'effect',
      teacherId: teacher.id,
      teacherName: teacher.name,
      clipId: 1,
      clipName: 'tiny clip',
      seed: i,
      psi: 0.7,
      noise: 'const',
      ...PROMPT,
      touched: 12,
    };
    store.insertItems([
      {
        datasetId: dataset.id,
        width: 64,
        height: 64,
        faces: null,
        sourcePath: null,
        targetSourcePath: null,
        provenance,
        imageSha: image.sha256,
        thumbSha: thumb.sha256,
        targetSha: target.sha256,
        targetThumbSha: targetThumb.sha256,
        phash: null,
      },
    ]);
  }

  const result = await trainStudent(fixtureParams(dataset.id), {
    db,
    blobs,
    tempDir: join(dataDir, 'tmp'),
    jobId: 'export-fixture-run',
    signal: new AbortController().signal,
    resumeFrom: null,
    progress: () => {},
    saveCheckpoint: () => {},
    providers: ['cpu'],
  });
  return { dataDir, db, blobs, teacher, datasetId: dataset.id, result };
}
