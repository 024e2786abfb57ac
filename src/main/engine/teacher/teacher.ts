// A loaded StyleGAN2 teacher: its configuration and the ONNX models (z → w, w → S, S → image, z → image) it builds.
import { Graph, type Tensor } from '../graph/index.ts';
import { addMapping, addStyles, addSynthesis, noiseInputName, styleInputName, type MappingOptions, type SynthesisOptions } from './graph.ts';
import type { ImportReport } from './import.ts';
import { parameterCount, type TeacherConfig, type TeacherWeights } from './weights.ts';

/** Options every teacher model takes: the batch size (shapes are static) plus mapping and synthesis options. */
export interface TeacherModelOptions extends MappingOptions, SynthesisOptions {
  /** Images per run. */
  batch: number;
}

/** A named model input or output with its static shape. */
export interface ModelIO {
  readonly name: string;
  readonly shape: readonly number[];
}

/** ONNX bytes of one teacher model and the names and shapes of what it takes and returns. */
export interface TeacherModel {
  readonly bytes: Uint8Array;
  readonly inputs: readonly ModelIO[];
  readonly outputs: readonly ModelIO[];
}

function finish(g: Graph, outputs: [string, Tensor][]): TeacherModel {
  for (const [name, t] of outputs) g.output(name, t);
  return {
    bytes: g.toModelBytes({ params: 'initializers' }),
    inputs: g.inputs.map((t) => ({ name: t.name, shape: [...t.shape] })),
    outputs: g.outputs.map((o) => ({ name: o.name, shape: [...o.tensor.shape] })),
  };
}

function checkBatch(batch: number): void {
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
}

/**
 * A StyleGAN2 generator ready to be turned into ONNX models. Models are built on demand (a config-f generator's
 * weights are baked into each model as initializers, so build only the ones a job needs).
 *
 * Model I/O names: `z` [B, zDim], `psi` [1], `w` [B, wDim], `ws` [B, numWs, wDim], `style.<layer>` [B, in],
 * `noise.<layer>` [B, 1, r, r] (random noise only), `image` [B, imgChannels, R, R].
 */
export class Teacher {
  /** Canonical weights (NVIDIA convention). */
  readonly weights: TeacherWeights;
  /** What the import found (naming, prefix, unused tensors); null for a teacher made in memory. */
  readonly report: ImportReport | null;

  constructor(weights: TeacherWeights, report: ImportReport | null = null) {
    this.weights = weights;
    this.report = report;
  }

  /** Architecture read from the weights. */
  get config(): TeacherConfig {
    return this.weights.config;
  }

  /** Number of stored parameters. */
  get parameterCount(): number {
    return parameterCount(this.weights);
  }

  /** z [B, zDim] and ψ [1] → w [B, wDim] (untruncated) and ws [B, numWs, wDim] (truncated). */
  buildMappingGraph(opts: TeacherModelOptions): TeacherModel {
    checkBatch(opts.batch);
    const g = new Graph('teacher_mapping');
    const z = g.input('z', 'float32', [opts.batch, this.config.zDim]);
    const psi = g.input('psi', 'float32', [1]);
    const { w, ws } = addMapping(g, this.weights, z, psi, opts);
    return finish(g, [['w', w], ['ws', ws]]);
  }

  /** ws [B, numWs, wDim] → every style vector `style.<layer>` [B, in] (style space S, toRGB styles included). */
  buildStyleGraph(opts: TeacherModelOptions): TeacherModel {
    checkBatch(opts.batch);
    const g = new Graph('teacher_styles');
    const ws = g.input('ws', 'float32', [opts.batch, this.config.numWs, this.config.wDim]);
    const styles = addStyles(g, this.weights, ws);
    return finish(g, [...styles].map(([layer, t]) => [styleInputName(layer), t] as [string, Tensor]));
  }

  /** `style.<layer>` inputs (+ `noise.<layer>` in random noise mode) → image [B, C, R, R]. */
  buildSynthesisGraph(opts: TeacherModelOptions): TeacherModel {
    checkBatch(opts.batch);
    const g = new Graph('teacher_synthesis');
    const styles = new Map<string, Tensor>();
    for (const layer of this.config.layers) {
      styles.set(layer.name, g.input(styleInputName(layer), 'float32', [opts.batch, layer.inChannels]));
    }
    const image = addSynthesis(g, this.weights, styles, this.noiseInputs(g, opts), opts);
    return finish(g, [['image', image]]);
  }

  /**
   * The whole generator in one model. From `z` (default): z [B, zDim] and ψ [1] → image and ws (kept with each
   * sample so it can be re-rendered or edited); from `ws`: ws → image.
   */
  buildGeneratorGraph(opts: TeacherModelOptions & { from?: 'z' | 'ws' }): TeacherModel {
    checkBatch(opts.batch);
    const g = new Graph('teacher_generator');
    const outputs: [string, Tensor][] = [];
    let ws: Tensor;
    if ((opts.from ?? 'z') === 'z') {
      const z = g.input('z', 'float32', [opts.batch, this.config.zDim]);
      const psi = g.input('psi', 'float32', [1]);
      ws = addMapping(g, this.weights, z, psi, opts).ws;
      outputs.push(['ws', ws]);
    } else {
      ws = g.input('ws', 'float32', [opts.batch, this.config.numWs, this.config.wDim]);
    }
    const image = addSynthesis(g, this.weights, addStyles(g, this.weights, ws), this.noiseInputs(g, opts), opts);
    return finish(g, [['image', image], ...outputs]);
  }

  private noiseInputs(g: Graph, opts: TeacherModelOptions): Map<string, Tensor> | null {
    if (opts.noise !== 'random' || !this.config.hasNoise) return null;
    const noise = new Map<string, Tensor>();
    for (const layer of this.config.layers) {
      if (layer.kind !== 'conv') continue;
      noise.set(layer.name, g.input(noiseInputName(layer), 'float32', [opts.batch, 1, layer.resolution, layer.resolution]));
    }
    return noise;
  }
}
