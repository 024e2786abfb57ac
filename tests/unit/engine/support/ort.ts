// Runs builder graphs in onnxruntime-node (CPU) for tests: one quiet single-threaded session per model.
import * as ort from 'onnxruntime-node';
import type { Graph } from '../../../../src/main/engine/graph/index.ts';

/** A session over a graph emitted with parameters as inputs. */
export async function sessionFor(g: Graph, outputs?: readonly string[]): Promise<ort.InferenceSession> {
  const bytes = g.toModelBytes(outputs ? { params: 'inputs', outputs } : { params: 'inputs' });
  // Tests share two cores with other jobs: one thread, no spinning.
  return ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
}

/** Runs a session on float32 feeds (shapes taken from the graph) and returns every output as Float32Array. */
export async function runFloat(
  session: ort.InferenceSession,
  g: Graph,
  feeds: ReadonlyMap<string, Float32Array>,
): Promise<Map<string, { data: Float32Array; dims: readonly number[] }>> {
  const shapes = new Map<string, readonly number[]>([
    ...g.inputs.map((t) => [t.name, t.shape] as const),
    ...g.params.map((p) => [p.name, p.shape] as const),
  ]);
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    const shape = shapes.get(name);
    const data = feeds.get(name) ?? g.params.find((p) => p.name === name)?.init;
    if (!shape || !data) throw new Error(`no feed for "${name}"`);
    ortFeeds[name] = new ort.Tensor('float32', data, [...shape]);
  }
  const res = await session.run(ortFeeds);
  const out = new Map<string, { data: Float32Array; dims: readonly number[] }>();
  for (const [name, t] of Object.entries(res)) out.set(name, { data: t.data as Float32Array, dims: t.dims });
  return out;
}
