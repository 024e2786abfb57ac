// The Live section's state: camera, the student (and the run it follows), the backend (in-page or native), view mode, HUD numbers.
import type { JobInfo, StudioApi } from '../../../shared/contract.ts';
import type { DatasetInfo } from '../../../shared/datasets/types.ts';
import { LivePipeline, type RunDetector, type StudentRunner } from '../../../shared/live/pipeline.ts';
import type { LiveRun, LiveStudentModel, LiveStudentSource } from '../../../shared/live/types.ts';
import { describeCameraError, listCameras, openCamera, type CameraDevice, type CameraProblem, type ResolutionId } from '../live/camera.ts';
import { LiveLoop, type FacePlacement, type LiveMode, type LiveStats } from '../live/live-loop.ts';
import { NativeBackend } from '../live/native-backend.ts';
import { webDetector, webRuntime, webStudent, type WebModel, type WebRuntime } from '../live/ort-web.ts';

/** A run's jobs report progress often; the checkpoint list is asked for at most this often while following. */
const FOLLOW_INTERVAL_MS = 1000;
/**
 * While following a run the checkpoint list is also polled this often: a training worker writes checkpoints between
 * the progress events it sends, and a run trained elsewhere (another studio, the CLI) sends none here.
 */
const FOLLOW_POLL_MS = 3000;
/** A replaced student session is released this long after the swap, when no frame can still be running it. */
const RELEASE_DELAY_MS = 2000;
/** Student runs timed per backend to pick the faster one. */
const MEASURE_RUNS = 5;

/** Which runtime runs the models: onnxruntime-web in the page, or onnxruntime-node in main's worker. */
export type LiveBackend = 'web' | 'native';

/** What the Live page shows and does. */
export class LiveState {
  readonly #api: StudioApi;
  cameras = $state.raw<CameraDevice[]>([]);
  deviceId = $state<string | null>(null);
  resolution = $state<ResolutionId>('640x480');
  mirror = $state(true);
  mode = $state<LiveMode>('effect');
  split = $state(0.5);
  cameraStatus = $state<'off' | 'starting' | 'on'>('off');
  /** Why the camera is not showing. */
  problem = $state.raw<CameraProblem | null>(null);
  runs = $state.raw<LiveRun[]>([]);
  hasLoadedRuns = $state(false);
  /** `run:<id>`, `package`, or '' for none. */
  sourceKey = $state('');
  packagePath = $state('');
  student = $state.raw<LiveStudentModel | null>(null);
  isLoadingStudent = $state(false);
  studentError = $state.raw<string | null>(null);
  /** Reload the run's newest checkpoint while it trains. */
  follow = $state(true);
  /** `auto` runs the backend that measured faster on the current student. */
  backendChoice = $state<'auto' | LiveBackend>('auto');
  /** The backend frames go through now. */
  backend = $state<LiveBackend>('web');
  /** Median student milliseconds per backend on the current student (null: not measured or not available). */
  measured = $state.raw<Record<LiveBackend, number | null>>({ web: null, native: null });
  webRuntime = $state.raw<WebRuntime | null>(null);
  nativeInfo = $state.raw<{ provider: string; threads: number } | null>(null);
  /** Why the native backend is not available. */
  nativeError = $state.raw<string | null>(null);
  stats = $state.raw<LiveStats | null>(null);
  placement = $state.raw<FacePlacement | null>(null);
  photoDatasets = $state.raw<DatasetInfo[]>([]);
  captureDatasetId = $state<number | null>(null);
  /** The outcome of the last still saved or frame added to a dataset. */
  recordNote = $state.raw<{ ok: boolean; text: string } | null>(null);
  loopError = $state.raw<string | null>(null);

  /** The run the current student comes from, if any. */
  readonly followedRun = $derived.by(() => {
    const source = this.student?.source;
    return source?.kind === 'run' ? (this.runs.find((r) => r.runId === source.runId) ?? null) : null;
  });

  #loop: LiveLoop | null = null;
  #detector: Promise<WebModel<RunDetector>> | null = null;
  #pipeline: LivePipeline | null = null;
  #native: Promise<NativeBackend | null> | null = null;
  #webStudent: WebModel<StudentRunner> | null = null;
  #lastFollowCheck = 0;
  #followTimer: ReturnType<typeof setTimeout> | null = null;
  #followPoll: ReturnType<typeof setInterval> | null = null;
  #loadSeq = 0;

  constructor(api: StudioApi) {
    this.#api = api;
  }

  /** Follows training jobs for hot reload; returns the unsubscribe function. */
  subscribe(): () => void {
    return this.#api.on('jobs:did-change', (job) => this.#onJob(job));
  }

  /** Loads the runs that have checkpoints and the photo datasets; picks the newest run when nothing is chosen yet. */
  async load(): Promise<void> {
    const [runs, datasets] = await Promise.all([this.#api.invoke('live:runs'), this.#api.invoke('datasets:list')]);
    if (runs.ok) {
      this.runs = runs.value;
      this.hasLoadedRuns = true;
      if (this.sourceKey === '' && runs.value[0] !== undefined) await this.choose(`run:${runs.value[0].runId}`);
    } else {
      this.studentError = runs.error.message;
    }
    if (datasets.ok) {
      this.photoDatasets = datasets.value.filter((d) => d.kind === 'photos');
      if (this.captureDatasetId === null || !this.photoDatasets.some((d) => d.id === this.captureDatasetId)) {
        this.captureDatasetId = this.photoDatasets[0]?.id ?? null;
      }
    }
  }

  /** Binds the page's video and canvas; the camera starts with {@link startCamera}. */
  attach(video: HTMLVideoElement, canvas: HTMLCanvasElement): void {
    this.#loop = new LiveLoop(video, canvas, {
      onStats: (stats) => (this.stats = stats),
      onFace: (placement) => (this.placement = placement),
      onError: (error) => {
        this.loopError = `The live view stopped: ${error instanceof Error ? error.message : String(error)}`;
        this.stopCamera();
      },
    });
    this.#applyView();
    this.#followPoll ??= setInterval(() => {
      if (this.follow && this.followedRun !== null && !this.isLoadingStudent) void this.#checkFollowed();
    }, FOLLOW_POLL_MS);
    // Connect the native backend now, so the first student is measured on both backends.
    void this.#nativeBackend().then(() => this.#applyBackend());
  }

  /** Stops the camera and forgets the page's elements (the page is leaving). */
  detach(): void {
    this.stopCamera();
    this.#loop = null;
    if (this.#followPoll !== null) clearInterval(this.#followPoll);
    this.#followPoll = null;
  }

  /** Opens the chosen camera and starts the loop; a refusal or a missing camera is said on the page. */
  async startCamera(): Promise<void> {
    const loop = this.#loop;
    if (loop === null || this.cameraStatus === 'starting') return;
    this.stopCamera();
    this.cameraStatus = 'starting';
    this.problem = null;
    this.loopError = null;
    let stream: MediaStream;
    try {
      stream = await openCamera(this.deviceId, this.resolution);
    } catch (error) {
      this.problem = describeCameraError(error);
      this.cameraStatus = 'off';
      return;
    }
    try {
      await Promise.all([this.#webPipeline(), this.#nativeBackend()]);
      await this.#applyBackend();
      await loop.start(stream);
      this.cameraStatus = 'on';
      this.cameras = await listCameras();
      if (this.deviceId === null) this.deviceId = stream.getVideoTracks()[0]?.getSettings().deviceId ?? null;
    } catch (error) {
      for (const track of stream.getTracks()) track.stop();
      this.cameraStatus = 'off';
      this.loopError = `The live view could not start: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  /** Stops the camera. */
  stopCamera(): void {
    this.#loop?.stop();
    this.cameraStatus = 'off';
    this.stats = null;
    this.placement = null;
  }

  /** Pushes the view settings (mode, split, mirror) into the running loop. */
  applyView(): void {
    this.#applyView();
  }

  #applyView(): void {
    if (this.#loop === null) return;
    this.#loop.mode = this.mode;
    this.#loop.split = this.split;
    this.#loop.mirror = this.mirror;
  }

  /** Chooses the backend (`auto`: the one measured faster on the current student). */
  async chooseBackend(choice: 'auto' | LiveBackend): Promise<void> {
    this.backendChoice = choice;
    await this.#applyBackend();
  }

  /** Picks the student: `run:<id>`, `package` (the path in {@link packagePath}) or '' for none. */
  async choose(key: string): Promise<void> {
    this.sourceKey = key;
    if (key === '') {
      this.#loadSeq++;
      this.student = null;
      this.studentError = null;
      this.measured = { web: null, native: null };
      this.#swapWebStudent(null);
      await (await this.#nativeBackend())?.setStudent(null).catch(() => undefined);
      await this.#applyBackend();
      return;
    }
    const source: LiveStudentSource = key === 'package' ? { kind: 'package', path: this.packagePath.trim() } : { kind: 'run', runId: Number(key.slice(4)) };
    if (source.kind === 'package' && source.path === '') {
      this.studentError = 'Type the path of an exported .fxpkg package first.';
      return;
    }
    await this.#loadStudent(source);
  }

  async #loadStudent(source: LiveStudentSource): Promise<void> {
    const seq = ++this.#loadSeq;
    this.isLoadingStudent = true;
    this.studentError = null;
    try {
      const prepared = await this.#api.invoke('live:student', source);
      if (!prepared.ok) throw new Error(prepared.error.message);
      const model = prepared.value;
      const bytes = new Uint8Array(model.modelBytes);
      let offset = 0;
      for (let i = 0; i < model.parts; i++) {
        const part = await this.#api.invoke('live:model-part', model.modelSha256, i);
        if (!part.ok) throw new Error(part.error.message);
        const chunk = Uint8Array.from(atob(part.value), (c) => c.charCodeAt(0));
        bytes.set(chunk, offset);
        offset += chunk.length;
      }
      const runtime = await this.#webRuntime();
      const next = await webStudent(bytes, model, runtime.provider);
      if (seq !== this.#loadSeq) {
        await next.release();
        return;
      }
      this.student = model;
      this.#swapWebStudent(next);
      const native = await this.#nativeBackend();
      if (native) await native.setStudent(model.modelSha256);
      await this.#measure(next, native);
      await this.#applyBackend();
    } catch (error) {
      if (seq === this.#loadSeq) this.studentError = error instanceof Error ? error.message : String(error);
    } finally {
      if (seq === this.#loadSeq) this.isLoadingStudent = false;
    }
  }

  /** Times the student on both backends (a blank crop, median of a few runs) so `auto` can pick the faster. */
  async #measure(web: WebModel<StudentRunner>, native: NativeBackend | null): Promise<void> {
    const size = web.run.size;
    const input = new Float32Array(3 * size * size).fill(0.5);
    await web.run.run(input);
    const times: number[] = [];
    for (let i = 0; i < MEASURE_RUNS; i++) {
      const t0 = performance.now();
      await web.run.run(input);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const nativeMs = native ? await native.measure(MEASURE_RUNS).catch(() => null) : null;
    this.measured = { web: times[times.length >> 1]!, native: nativeMs };
  }

  /** Hands the in-page student session to the pipeline; the old one is released once no frame can be using it. */
  #swapWebStudent(next: WebModel<StudentRunner> | null): void {
    const old = this.#webStudent;
    this.#webStudent = next;
    this.#pipeline?.setStudent(next?.run ?? null);
    if (old !== null) setTimeout(() => void old.release(), RELEASE_DELAY_MS);
  }

  /** Points the loop at the chosen backend (falling back to the page's when the native one is not available). */
  async #applyBackend(): Promise<void> {
    const native = this.#native === null ? null : await this.#native;
    let want: LiveBackend = this.backendChoice === 'auto' ? this.#fasterBackend(native !== null) : this.backendChoice;
    if (want === 'native' && native === null) want = 'web';
    this.backend = want;
    const processor = want === 'native' ? native : this.#pipeline;
    if (processor) this.#loop?.setProcessor(processor);
  }

  #fasterBackend(hasNative: boolean): LiveBackend {
    const { web, native } = this.measured;
    if (!hasNative) return 'web';
    if (web === null || native === null) return 'native';
    return native <= web ? 'native' : 'web';
  }

  async #webRuntime(): Promise<WebRuntime> {
    this.webRuntime ??= await webRuntime();
    return this.webRuntime;
  }

  async #webPipeline(): Promise<LivePipeline> {
    const runtime = await this.#webRuntime();
    this.#detector ??= webDetector(runtime.provider);
    const detector = await this.#detector;
    this.#pipeline ??= new LivePipeline(detector.run, this.#webStudent?.run ?? null);
    return this.#pipeline;
  }

  /** Connects the native backend once; when it cannot start, says why and the page's backend is used. */
  #nativeBackend(): Promise<NativeBackend | null> {
    this.#native ??= NativeBackend.open().then(
      async (backend) => {
        this.nativeInfo = { provider: backend.provider, threads: backend.threads };
        backend.onFailure = (message) => {
          this.nativeError = message;
          this.nativeInfo = null;
          this.#native = Promise.resolve(null);
          void this.#applyBackend();
        };
        return backend;
      },
      (error: unknown) => {
        this.nativeError = error instanceof Error ? error.message : String(error);
        return null;
      },
    );
    return this.#native;
  }

  #onJob(job: JobInfo): void {
    const run = this.followedRun;
    if (!this.follow || run === null || job.id !== run.jobId || this.#followTimer !== null) return;
    const wait = this.#lastFollowCheck + FOLLOW_INTERVAL_MS - Date.now();
    this.#followTimer = setTimeout(() => {
      this.#followTimer = null;
      this.#lastFollowCheck = Date.now();
      void this.#checkFollowed();
    }, Math.max(0, wait));
  }

  async #checkFollowed(): Promise<void> {
    const runs = await this.#api.invoke('live:runs');
    if (!runs.ok) return;
    this.runs = runs.value;
    const source = this.student?.source;
    if (source?.kind !== 'run') return;
    const latest = runs.value.find((r) => r.runId === source.runId);
    if (latest !== undefined && latest.checkpointSha !== this.student?.checkpointSha) await this.#loadStudent(source);
  }

  /** Downloads the last frame before | after as a PNG file. */
  async saveStill(): Promise<void> {
    const png = await this.#loop?.stillPng();
    if (!png) {
      this.recordNote = { ok: false, text: 'There is no frame yet: start the camera first.' };
      return;
    }
    const url = URL.createObjectURL(png);
    const a = document.createElement('a');
    a.href = url;
    a.download = `live-${new Date().toISOString().replace(/[:.]/g, '-')}.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    this.recordNote = { ok: true, text: `Saved ${a.download} (before | after).` };
  }

  /** Adds the last camera frame (without the effect) to the chosen photos dataset. */
  async addFrameToDataset(): Promise<void> {
    const id = this.captureDatasetId;
    const png = await this.#loop?.framePng();
    if (id === null || !png) {
      this.recordNote = { ok: false, text: id === null ? 'Create a photos dataset first (Datasets page).' : 'There is no frame yet: start the camera first.' };
      return;
    }
    const result = await this.#api.invoke('datasets:add-capture', id, await blobToBase64(png));
    const name = this.photoDatasets.find((d) => d.id === id)?.name ?? `dataset ${id}`;
    this.recordNote = result.ok ? { ok: true, text: `Adding the frame to “${name}” (job ${result.value.id.slice(0, 8)}).` } : { ok: false, text: result.error.message };
  }
}

async function blobToBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
