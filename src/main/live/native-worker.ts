// Worker thread of the native live backend: BlazeFace and the student on onnxruntime-node, one frame at a time, off the main thread.
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { createSession, type Session } from '../engine/runtime/session.ts';
import { blazeFaceModelPath } from '../faces/detector.ts';
import { BLAZEFACE } from '../../shared/faces/blazeface.ts';
import { encodeLiveMessage, type LiveServerHeader } from '../../shared/live/native-protocol.ts';
import { adaptStudentIo, LivePipeline, type RunDetector, type StudentRunner } from '../../shared/live/pipeline.ts';
import type { NativeWorkerRequest, NativeWorkerReply } from './native-session.ts';
import { LIVE_DETECTOR_THREADS, liveStudentThreads } from './threads.ts';

const port = parentPort;
if (port === null) throw new Error('native-worker must run as a worker thread');


function reply(header: LiveServerHeader, payload?: Uint8Array): void {
  const data = encodeLiveMessage(header, payload);
  const message: NativeWorkerReply = { data };
  port!.postMessage(message, [data]);
}

const detector = await createSession(blazeFaceModelPath(), { providers: ['cpu'], threads: LIVE_DETECTOR_THREADS, logSeverityLevel: 3 });
let student: { session: Session; runner: StudentRunner; sha: string } | null = null;

const detect: RunDetector = async (input) => {
  const out = await detector.run({ [BLAZEFACE.inputName]: new ort.Tensor('float32', input, [1, 128, 128, 3]) });
  const get = (name: string): Float32Array => out[name]!.data as Float32Array;
  return {
    scores: [get(BLAZEFACE.scoreNames[0]), get(BLAZEFACE.scoreNames[1])],
    regressors: [get(BLAZEFACE.regressorNames[0]), get(BLAZEFACE.regressorNames[1])],
  };
};
const pipeline = new LivePipeline(detect, null);

async function handle(request: NativeWorkerRequest): Promise<void> {
  switch (request.kind) {
    case 'student': {
      const old = student;
      student = null;
      if (request.model !== null) {
        const { bytes, size, inputName, outputName, sha } = request.model;
        const session = await createSession(bytes, { providers: ['cpu'], threads: liveStudentThreads() });
        const runner: StudentRunner = {
          size,
          run: adaptStudentIo(
            async (input) => (await session.run({ [inputName]: new ort.Tensor('float32', input, [1, 3, size, size]) }))[outputName]!.data as Float32Array,
            request.model,
          ),
        };
        student = { session, runner, sha };
      }
      pipeline.setStudent(student?.runner ?? null);
      await old?.session.release();
      reply({ type: 'student', modelSha256: student?.sha ?? null, size: student?.runner.size ?? null });
      return;
    }
    case 'frame': {
      const { id, width, height, time } = request;
      const frame = { data: new Uint8Array(request.pixels), width, height, channels: 4 };
      const tracked = await pipeline.track(frame, time);
      const { cropOut, ms } = await pipeline.applyStudent(tracked.crop, 4);
      reply(
        {
          type: 'result',
          id,
          face: tracked.face,
          toCrop: cropOut === null ? null : (tracked.alignment?.toCrop ?? null),
          cropSize: cropOut?.width ?? 0,
          detectMs: tracked.detectMs,
          studentMs: ms,
        },
        cropOut === null ? undefined : (cropOut.data as Uint8Array),
      );
      return;
    }
    case 'measure': {
      if (student === null) return reply({ type: 'measured', medianMs: null });
      const size = student.runner.size;
      const input = new Float32Array(3 * size * size).fill(0.5);
      await student.runner.run(input);
      const times: number[] = [];
      for (let i = 0; i < request.runs; i++) {
        const t0 = performance.now();
        await student.runner.run(input);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      return reply({ type: 'measured', medianMs: times[times.length >> 1]! });
    }
    case 'close': {
      // After the last request: release both sessions, then let the thread end on its own.
      pipeline.setStudent(null);
      await student?.session.release();
      student = null;
      await detector.release();
      port!.close();
      return;
    }
  }
}

// One request at a time, in order: a frame never overtakes the student change sent before it.
let queue = Promise.resolve();
port.on('message', (request: NativeWorkerRequest) => {
  queue = queue.then(() => handle(request)).catch((error: unknown) => reply({ type: 'error', message: error instanceof Error ? error.message : String(error) }));
});
reply({ type: 'ready', provider: detector.provider, threads: liveStudentThreads() });
