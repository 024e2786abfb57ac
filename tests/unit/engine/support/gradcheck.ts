// Gradient checker: ORT's float32 backward graph against central finite differences of the float64 reference.
import { gradients } from '../../../../src/main/engine/autodiff/index.ts';
import { Graph, Rng, type Tensor } from '../../../../src/main/engine/graph/index.ts';
import { evaluate } from './reference.ts';
import { runFloat, sessionFor } from './ort.ts';

/** Result of {@link gradCheck}: relative errors (∞-norm) of the forward output and of each gradient. */
export interface GradCheckResult {
  /** ‖y_ort − y_ref‖∞ / ‖y_ref‖∞. */
  forward: number;
  /** Per wrt tensor: max over sampled elements of |g_ort − g_fd| / ‖g_fd‖∞. */
  elementwise: number[];
  /** Per wrt tensor: |⟨g_ort, v⟩ − D_v L| / (‖g_ort‖₂‖v‖₂) for a random full-size direction v. */
  directional: number[];
  /** ORT's gradients (for extra assertions). */
  grads: Float32Array[];
}

/** Options of {@link gradCheck}. */
export interface GradCheckOptions {
  seed?: number;
  /** Input values by name; missing inputs get float32-representable N(0, 1) samples. */
  feeds?: ReadonlyMap<string, Float32Array>;
  /** Elements per wrt tensor checked one by one (the rest are covered by the directional check). */
  samples?: number;
  /** Finite-difference step (relative to max(1, |θ|)). */
  h?: number;
}

/** Float32-representable standard normal samples. */
export function randomData(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

/**
 * Appends `loss = Σ out ⊙ R` (R a random constant) and its gradients w.r.t. `wrt` to `g`, runs the model in ORT,
 * and compares with central differences of the float64 reference. `wrt` may hold inputs and parameters.
 */
export async function gradCheck(g: Graph, out: Tensor, wrt: readonly Tensor[], opts: GradCheckOptions = {}): Promise<GradCheckResult> {
  const rng = new Rng(opts.seed ?? 7, 'gradcheck');
  const feeds32 = new Map<string, Float32Array>(opts.feeds ?? []);
  for (const t of g.inputs) if (!feeds32.has(t.name)) feeds32.set(t.name, randomData(rng, t.size));
  const proj = randomData(rng, out.size);
  const projT = g.constant(proj, out.shape, 'float32', `${out.name}.projection`);
  const loss = g.reduceSum(g.mul(out, projT), { keepdims: false });
  const grads = gradients(g, loss, wrt);
  g.output('check.out', out);
  grads.forEach((t, i) => g.output(`check.grad${i}`, t));
  const session = await sessionFor(g);
  const res = await runFloat(session, g, feeds32);
  await session.release();

  const feeds64 = new Map<string, Float64Array>();
  for (const [k, v] of feeds32) feeds64.set(k, Float64Array.from(v));
  for (const p of g.params) if (!feeds64.has(p.name)) feeds64.set(p.name, Float64Array.from(p.init));
  const [ref] = evaluate(g, feeds64, [out]);
  const yOrt = res.get('check.out')!.data;
  const forward = relInf(yOrt, ref!.data);

  const lossAt = (): number => {
    const [y] = evaluate(g, feeds64, [out]);
    let s = 0;
    for (let i = 0; i < y!.data.length; i++) s += y!.data[i]! * proj[i]!;
    return s;
  };
  const h = opts.h ?? 1e-6;
  const samples = opts.samples ?? 48;
  const elementwise: number[] = [];
  const directional: number[] = [];
  const gradArrays: Float32Array[] = [];
  wrt.forEach((t, wi) => {
    const gOrt = res.get(`check.grad${wi}`)!.data;
    gradArrays.push(gOrt);
    const theta = feeds64.get(t.name);
    if (!theta) throw new Error(`gradcheck: "${t.name}" is neither an input nor a parameter`);
    const idx = pick(rng, theta.length, samples);
    const fd = idx.map((i) => {
      const v0 = theta[i]!;
      const step = h * Math.max(1, Math.abs(v0));
      theta[i] = v0 + step;
      const up = lossAt();
      theta[i] = v0 - step;
      const down = lossAt();
      theta[i] = v0;
      return (up - down) / (2 * step);
    });
    const scale = Math.max(1e-12, ...fd.map(Math.abs), ...idx.map((i) => Math.abs(gOrt[i]!)));
    elementwise.push(Math.max(0, ...idx.map((i, k) => Math.abs(gOrt[i]! - fd[k]!) / scale)));

    const v = Float64Array.from({ length: theta.length }, () => rng.normal());
    const base = Float64Array.from(theta);
    const stepDir = (sgn: number): number => {
      for (let i = 0; i < theta.length; i++) theta[i] = base[i]! + sgn * h * v[i]!;
      return lossAt();
    };
    const dfd = (stepDir(1) - stepDir(-1)) / (2 * h);
    theta.set(base);
    let dot = 0;
    let gn = 0;
    let vn = 0;
    for (let i = 0; i < theta.length; i++) {
      dot += gOrt[i]! * v[i]!;
      gn += gOrt[i]! ** 2;
      vn += v[i]! ** 2;
    }
    directional.push(Math.abs(dot - dfd) / Math.max(1e-12, Math.sqrt(gn * vn)));
  });
  return { forward, elementwise, directional, grads: gradArrays };
}

/** ‖a − b‖∞ / ‖b‖∞ (absolute when b is all zeros). */
export function relInf(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den > 0 ? num / den : num;
}

function pick(rng: Rng, n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(rng.nextUint32() % n);
  return [...chosen].sort((a, b) => a - b);
}

/** The tolerances every VJP test uses: forward agreement of the two implementations and gradient agreement. */
export const TOLERANCE = { forward: 1e-5, gradient: 1e-4 } as const;

/** Builds a graph with `build`, runs {@link gradCheck} and returns the worst errors (for one `expect`). */
export async function worstErrors(
  build: (g: Graph) => { out: Tensor; wrt: Tensor[]; feeds?: ReadonlyMap<string, Float32Array> },
  seed = 11,
): Promise<{ forward: number; gradient: number }> {
  const g = new Graph('check', { seed });
  const { out, wrt, feeds } = build(g);
  const r = await gradCheck(g, out, wrt, { seed, feeds });
  return { forward: r.forward, gradient: Math.max(...r.elementwise, ...r.directional) };
}
