// Students for the live preview: a run's newest checkpoint built into the deployable ONNX model, or an exported package's model.
import { createHash } from 'node:crypto';
import type { BlobStore } from '../core/blob-store.ts';
import type { Database } from '../core/db/database.ts';
import { parseSafetensors } from '../engine/safetensors/index.ts';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from '../engine/train/index.ts';
import { checkManifest, MANIFEST_FILE, MODEL_FILE } from '../export/manifest.ts';
import { PackageRejectedError, readPackageEntries } from '../export/reader.ts';
import { buildStudentGraph, studentForwardModel, STUDENT_INPUT, STUDENT_OUTPUT } from '../student/model.ts';
import { RunStore } from '../student/runs.ts';
import type { StudentIo } from '../../shared/live/pipeline.ts';
import { LIVE_MODEL_PART_BYTES, type LiveRun, type LiveStudentModel, type LiveStudentSource } from '../../shared/live/types.ts';

/** A student the live preview cannot use; the message says why (no checkpoint yet, a package that does not fit). */
export class LiveStudentError extends Error {
  override name = 'LiveStudentError';
}

/** No model with this sha256 was prepared (or it was prepared too long ago and dropped). */
export class LiveModelNotFoundError extends Error {
  override name = 'LiveModelNotFoundError';
}

/** Models kept ready for `live:model-part`: the current one and the one being swapped in. */
const KEPT_MODELS = 3;

/** Lists and builds students for the live preview. */
export class LiveStudentService {
  readonly #runs: RunStore;
  readonly #blobs: BlobStore;
  /** Built models by their sha256, oldest first. */
  readonly #models = new Map<string, PreparedModel>();

  constructor(db: Database, blobs: BlobStore) {
    this.#runs = new RunStore(db);
    this.#blobs = blobs;
  }

  /** Runs that have at least one checkpoint, newest first. */
  runs(): LiveRun[] {
    return this.#runs.list().flatMap((run) => {
      const checkpoint = this.#runs.lastCheckpoint(run.id);
      if (checkpoint === null) return [];
      return [
        {
          runId: run.id,
          jobId: run.jobId,
          status: run.status,
          checkpointStep: checkpoint.step,
          checkpointSha: checkpoint.sha,
          size: run.config.student.size,
          createdAt: run.createdAt,
        },
      ];
    });
  }

  /** Builds (or reads) the student's model and keeps its bytes ready for {@link part}. */
  async model(source: LiveStudentSource): Promise<LiveStudentModel> {
    const made = source.kind === 'run' ? await this.#fromRun(source.runId) : await this.#fromPackage(source.path);
    const sha = createHash('sha256').update(made.bytes).digest('hex');
    this.#models.delete(sha);
    this.#models.set(sha, { sha256: sha, bytes: made.bytes, size: made.size, inputName: made.inputName, outputName: made.outputName, colorOrder: made.colorOrder, valueRange: made.valueRange });
    while (this.#models.size > KEPT_MODELS) this.#models.delete(this.#models.keys().next().value!);
    return {
      source,
      label: made.label,
      size: made.size,
      inputName: made.inputName,
      outputName: made.outputName,
      colorOrder: made.colorOrder,
      valueRange: made.valueRange,
      checkpointStep: made.checkpointStep,
      checkpointSha: made.checkpointSha,
      modelSha256: sha,
      modelBytes: made.bytes.length,
      parts: Math.max(1, Math.ceil(made.bytes.length / LIVE_MODEL_PART_BYTES)),
    };
  }

  /** A model prepared by {@link model} (for the native backend), or null when it is not (or no longer) kept. */
  prepared(sha256: string): PreparedModel | null {
    return this.#models.get(sha256) ?? null;
  }

  /** Part `index` of a prepared model's bytes, base64. */
  part(sha256: string, index: number): string {
    const bytes = this.#models.get(sha256)?.bytes;
    if (bytes === undefined) throw new LiveModelNotFoundError(`no live model ${sha256.slice(0, 12)}… is prepared; ask for the student again`);
    const start = index * LIVE_MODEL_PART_BYTES;
    if (start >= bytes.length && !(index === 0 && bytes.length === 0)) {
      throw new LiveStudentError(`model ${sha256.slice(0, 12)}… has ${Math.ceil(bytes.length / LIVE_MODEL_PART_BYTES)} part(s); there is no part ${index}`);
    }
    return Buffer.from(bytes.subarray(start, start + LIVE_MODEL_PART_BYTES)).toString('base64');
  }

  async #fromRun(runId: number): Promise<Built> {
    const run = this.#runs.get(runId);
    const checkpoint = this.#runs.lastCheckpoint(runId);
    if (checkpoint === null) throw new LiveStudentError(`run ${runId} has no checkpoint yet; the live view can show it once training saves one`);
    const where = `checkpoint step ${checkpoint.step} of run ${runId}`;
    let file;
    try {
      file = parseSafetensors(await this.#blobs.read(checkpoint.sha), where);
    } catch (error) {
      throw new LiveStudentError(`${where} is not readable: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (file.metadata.format !== CHECKPOINT_FORMAT || file.metadata.version !== String(CHECKPOINT_VERSION)) {
      throw new LiveStudentError(`${where} is not a version-${CHECKPOINT_VERSION} training checkpoint`);
    }
    const config = run.config.student;
    const weights = new Map<string, Float32Array>();
    const problems: string[] = [];
    for (const p of buildStudentGraph(config).graph.params) {
      const entry = file.has(p.name) ? file.entry(p.name) : null;
      if (entry === null) problems.push(`"${p.name}" is missing`);
      else if (entry.dtype !== 'F32' || entry.shape.join(',') !== p.shape.join(',')) {
        problems.push(`"${p.name}" is ${entry.dtype} [${entry.shape.join(',')}], the student needs F32 [${p.shape.join(',')}]`);
      } else weights.set(p.name, file.float32(p.name));
    }
    if (problems.length > 0) throw new LiveStudentError(`${where} does not fit the run's student: ${problems.slice(0, 3).join('; ')}`);
    return {
      bytes: studentForwardModel(config, weights),
      label: `Run ${runId} · step ${checkpoint.step}`,
      size: config.size,
      inputName: STUDENT_INPUT,
      outputName: STUDENT_OUTPUT,
      // The studio's students take RGB in [0, 1] (src/main/student/model.ts).
      colorOrder: 'RGB',
      valueRange: [0, 1],
      checkpointStep: checkpoint.step,
      checkpointSha: checkpoint.sha,
    };
  }

  async #fromPackage(path: string): Promise<Built> {
    let entries: Map<string, Buffer>;
    try {
      entries = await readPackageEntries(path);
    } catch (error) {
      if (error instanceof PackageRejectedError) throw new LiveStudentError(`package ${path} was refused: ${error.message}`);
      throw new LiveStudentError(`cannot read package ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const manifestBytes = entries.get(MANIFEST_FILE);
    const model = entries.get(MODEL_FILE);
    if (manifestBytes === undefined || model === undefined) throw new LiveStudentError(`package ${path} lacks ${manifestBytes === undefined ? MANIFEST_FILE : MODEL_FILE}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(manifestBytes.toString('utf8'));
    } catch {
      throw new LiveStudentError(`package ${path}: ${MANIFEST_FILE} is not JSON`);
    }
    const check = checkManifest(parsed);
    if (!check.ok) throw new LiveStudentError(`package ${path}: the manifest is invalid: ${check.errors.slice(0, 3).join('; ')}`);
    const { manifest } = check;
    const listed = manifest.files.find((f) => f.path === MODEL_FILE);
    if (listed === undefined || createHash('sha256').update(model).digest('hex') !== listed.sha256) {
      throw new LiveStudentError(`package ${path}: ${MODEL_FILE} does not match the checksum in its manifest`);
    }
    const { input, output, colorOrder, valueRange } = manifest.io;
    const [n, c, h, w] = input.shape;
    if (n !== 1 || c !== 3 || h !== w || output.shape.join(',') !== input.shape.join(',')) {
      throw new LiveStudentError(`package ${path}: the live view runs square [1,3,S,S] → [1,3,S,S] models; this one is [${input.shape.join(',')}] → [${output.shape.join(',')}]`);
    }
    return {
      bytes: new Uint8Array(model),
      label: manifest.name,
      size: h,
      inputName: input.name,
      outputName: output.name,
      colorOrder,
      valueRange,
      checkpointStep: null,
      checkpointSha: null,
    };
  }
}

/** A student model kept ready: its bytes and how to feed it. */
export interface PreparedModel extends StudentIo {
  sha256: string;
  bytes: Uint8Array;
  size: number;
  inputName: string;
  outputName: string;
}

interface Built {
  bytes: Uint8Array;
  label: string;
  size: number;
  inputName: string;
  outputName: string;
  colorOrder: 'RGB' | 'BGR';
  valueRange: [number, number];
  checkpointStep: number | null;
  checkpointSha: string | null;
}
