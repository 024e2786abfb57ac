// Independent float64 StyleGAN2 forward passes in plain TypeScript, one per original code base, read straight from
// the named tensors: stylegan2-ada-pytorch (`training/networks.py`, `conv2d_resample.py`, `upfirdn2d.py`) and
// rosinality (`model.py`). Both use the *fused* modulated conv (per-sample weights, demodulated weights, one
// convolution per sample), so they check the studio's non-fused graph algebra instead of repeating it.

/** A named tensor as read from a weights file, in float64. */
export interface RefTensor {
  shape: number[];
  data: Float64Array;
}

/** A feature map batch [N, C, H, W]. */
interface Maps {
  n: number;
  c: number;
  h: number;
  w: number;
  data: Float64Array;
}

/** Noise choice of a reference run: stored constants, none, or explicit maps per layer (NVIDIA layer names). */
export type RefNoise = 'const' | 'none' | { random: Map<string, Float64Array[]> };

function get(t: Map<string, RefTensor>, name: string): RefTensor {
  const v = t.get(name);
  if (v === undefined) throw new Error(`reference: no tensor ${name}`);
  return v;
}

function lrelu(v: number): number {
  return v < 0 ? 0.2 * v : v;
}

/** y = x·(W·wGain)ᵀ + b·bGain for x [N, in]. */
function linear(x: Float64Array[], w: RefTensor, b: RefTensor, wGain: number, bGain: number): Float64Array[] {
  const [out, inF] = w.shape as [number, number];
  return x.map((row) => {
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let acc = 0;
      for (let i = 0; i < inF; i++) acc += w.data[o * inF + i]! * wGain * row[i]!;
      y[o] = acc + b.data[o]! * bGain;
    }
    return y;
  });
}

/** Correlation of one sample [C, H, W] with weights [O, C, k, k], zero padding p, stride 1. */
function conv2d(x: Float64Array, c: number, h: number, wd: number, weight: Float64Array, o: number, k: number, p: number): Float64Array {
  const oh = h + 2 * p - k + 1;
  const ow = wd + 2 * p - k + 1;
  const y = new Float64Array(o * oh * ow);
  for (let oc = 0; oc < o; oc++) {
    for (let ic = 0; ic < c; ic++) {
      for (let ky = 0; ky < k; ky++) {
        for (let kx = 0; kx < k; kx++) {
          const wv = weight[((oc * c + ic) * k + ky) * k + kx]!;
          for (let yy = 0; yy < oh; yy++) {
            const iy = yy + ky - p;
            if (iy < 0 || iy >= h) continue;
            for (let xx = 0; xx < ow; xx++) {
              const ix = xx + kx - p;
              if (ix < 0 || ix >= wd) continue;
              y[(oc * oh + yy) * ow + xx]! += wv * x[(ic * h + iy) * wd + ix]!;
            }
          }
        }
      }
    }
  }
  return y;
}

/** torch.conv_transpose2d of one sample [C, H, W] with weight [C, O, k, k], stride s, padding 0. */
function convTranspose2d(x: Float64Array, c: number, h: number, wd: number, weight: Float64Array, o: number, k: number, s: number): Float64Array {
  const oh = (h - 1) * s + k;
  const ow = (wd - 1) * s + k;
  const y = new Float64Array(o * oh * ow);
  for (let ic = 0; ic < c; ic++) {
    for (let iy = 0; iy < h; iy++) {
      for (let ix = 0; ix < wd; ix++) {
        const v = x[(ic * h + iy) * wd + ix]!;
        for (let oc = 0; oc < o; oc++) {
          for (let ky = 0; ky < k; ky++) {
            for (let kx = 0; kx < k; kx++) {
              y[(oc * oh + iy * s + ky) * ow + ix * s + kx]! += v * weight[((ic * o + oc) * k + ky) * k + kx]!;
            }
          }
        }
      }
    }
  }
  return y;
}

/**
 * upfirdn2d reference (identical in both code bases): insert up−1 zeros after each pixel, pad (negative crops),
 * convolve with the filter (correlation with the flipped filter), per channel. `f` is k×k, already scaled.
 */
function upfirdn2d(m: Maps, f: Float64Array, k: number, up: number, px0: number, px1: number, py0: number, py1: number): Maps {
  const uh = m.h * up;
  const uw = m.w * up;
  const ph = uh + py0 + py1;
  const pw = uw + px0 + px1;
  const oh = ph - k + 1;
  const ow = pw - k + 1;
  const out = new Float64Array(m.n * m.c * oh * ow);
  const at = (plane: number, y: number, x: number): number => {
    // position in the padded, upsampled image → input pixel, or 0
    const uy = y - py0;
    const ux = x - px0;
    if (uy < 0 || ux < 0 || uy >= uh || ux >= uw || uy % up !== 0 || ux % up !== 0) return 0;
    return m.data[(plane * m.h + uy / up) * m.w + ux / up]!;
  };
  for (let plane = 0; plane < m.n * m.c; plane++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        let acc = 0;
        for (let ky = 0; ky < k; ky++) {
          for (let kx = 0; kx < k; kx++) acc += at(plane, y + ky, x + kx) * f[(k - 1 - ky) * k + (k - 1 - kx)]!;
        }
        out[(plane * oh + y) * ow + x] = acc;
      }
    }
  }
  return { n: m.n, c: m.c, h: oh, w: ow, data: out };
}

/** Outer product of [1,3,3,1], normalised to sum 1, times gain. */
function setupFilter(gain: number): Float64Array {
  const taps = [1, 3, 3, 1];
  const f = new Float64Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) f[i * 4 + j] = (taps[i]! * taps[j]!) / 64 * gain;
  return f;
}

/** Per-sample modulated weights [O, I, k, k]: weight·scale·style, demodulated when asked. */
function modulate(weight: Float64Array, o: number, i: number, k: number, style: Float64Array, scale: number, demodulate: boolean): Float64Array {
  const w = new Float64Array(o * i * k * k);
  for (let oc = 0; oc < o; oc++) {
    let sum = 0;
    for (let ic = 0; ic < i; ic++) {
      for (let t = 0; t < k * k; t++) {
        const v = weight[(oc * i + ic) * k * k + t]! * scale * style[ic]!;
        w[(oc * i + ic) * k * k + t] = v;
        sum += v * v;
      }
    }
    if (demodulate) {
      const d = 1 / Math.sqrt(sum + 1e-8);
      for (let t = 0; t < i * k * k; t++) w[oc * i * k * k + t]! *= d;
    }
  }
  return w;
}

/** [O, I, k, k] → [I, O, k, k]. */
function transpose01(w: Float64Array, o: number, i: number, k: number): Float64Array {
  const t = new Float64Array(w.length);
  for (let oc = 0; oc < o; oc++) for (let ic = 0; ic < i; ic++) for (let q = 0; q < k * k; q++) t[(ic * o + oc) * k * k + q] = w[(oc * i + ic) * k * k + q]!;
  return t;
}

function normalize2ndMoment(z: Float64Array[]): Float64Array[] {
  return z.map((row) => {
    let ms = 0;
    for (const v of row) ms += v * v;
    const s = 1 / Math.sqrt(ms / row.length + 1e-8);
    return row.map((v) => v * s);
  });
}

/** What a reference forward returns: the image [N, C, R, R], the ws and every layer's style vector. */
export interface RefResult {
  image: Maps;
  ws: Float64Array[][];
  styles: Map<string, Float64Array[]>;
}

/** stylegan2-ada-pytorch `MappingNetwork` without broadcast and truncation: z → w. */
export function nvidiaMapping(t: Map<string, RefTensor>, z: Float64Array[]): Float64Array[] {
  let x = normalize2ndMoment(z);
  for (let i = 0; t.has(`mapping.fc${i}.weight`); i++) {
    const w = get(t, `mapping.fc${i}.weight`);
    x = linear(x, w, get(t, `mapping.fc${i}.bias`), 0.01 / Math.sqrt(w.shape[1]!), 0.01).map((r) => r.map((v) => lrelu(v) * Math.SQRT2));
  }
  return x;
}

/** stylegan2-ada-pytorch `Generator.forward(z, c=None, truncation_psi, truncation_cutoff, noise_mode)`. */
export function nvidiaForward(
  t: Map<string, RefTensor>,
  z: Float64Array[],
  psi: number,
  cutoff: number | null,
  noise: RefNoise,
  convClamp: number | null = null,
): RefResult {
  const n = z.length;
  const x = nvidiaMapping(t, z);
  let resolution = 4;
  while (t.has(`synthesis.b${resolution * 2}.conv0.weight`)) resolution *= 2;
  const blocks: number[] = [];
  for (let r = 4; r <= resolution; r *= 2) blocks.push(r);
  const numWs = blocks.reduce((s, r) => s + (r === 4 ? 1 : 2), 0) + 1;
  const wAvg = get(t, 'mapping.w_avg').data;
  const ws = x.map((w) =>
    Array.from({ length: numWs }, (_, l) => (l < (cutoff ?? numWs) ? w.map((v, i) => wAvg[i]! + psi * (v - wAvg[i]!)) : w.slice())),
  );

  const styles = new Map<string, Float64Array[]>();
  const clamp = (v: number): number => (convClamp === null ? v : Math.min(Math.max(v, -convClamp), convClamp));
  // SynthesisLayer.forward with fused_modconv=True
  const layer = (name: string, m: Maps, wIdx: number, up: number): Maps => {
    const p = `synthesis.${name}`;
    const weight = get(t, `${p}.weight`);
    const [o, i, k] = weight.shape as [number, number, number];
    const aw = get(t, `${p}.affine.weight`);
    const st = linear(ws.map((s) => s[wIdx]!), aw, get(t, `${p}.affine.bias`), 1 / Math.sqrt(aw.shape[1]!), 1);
    styles.set(name, st);
    const res = m.h * up;
    const strength = t.has(`${p}.noise_strength`) ? get(t, `${p}.noise_strength`).data[0]! : 0;
    const bias = get(t, `${p}.bias`).data;
    const outs: Float64Array[] = [];
    for (let b = 0; b < n; b++) {
      const wb = modulate(weight.data, o, i, k, st[b]!, 1, true);
      const xb = m.data.subarray(b * m.c * m.h * m.w, (b + 1) * m.c * m.h * m.w);
      let y: Maps;
      if (up === 1) {
        y = { n: 1, c: o, h: m.h, w: m.w, data: conv2d(xb, i, m.h, m.w, wb, o, k, Math.floor(k / 2)) };
      } else {
        // conv2d_resample, up > 1 branch, with padding = kernel_size // 2 and the 4-tap filter
        const fw = 4;
        let px0 = Math.floor(k / 2) + Math.floor((fw + up - 1) / 2);
        let px1 = Math.floor(k / 2) + Math.floor((fw - up) / 2);
        px0 -= k - 1;
        px1 -= k - up;
        const pxt = Math.max(Math.min(-px0, -px1), 0);
        if (pxt !== 0) throw new Error('reference: transposed-conv padding not modelled');
        const ct = convTranspose2d(xb, i, m.h, m.w, transpose01(wb, o, i, k), o, k, up);
        const side = (m.h - 1) * up + k;
        y = upfirdn2d({ n: 1, c: o, h: side, w: side, data: ct }, setupFilter(up * up), 4, 1, px0 + pxt, px1 + pxt, px0 + pxt, px1 + pxt);
      }
      let noiseMap: Float64Array | null = null;
      if (strength !== 0 && noise === 'const') noiseMap = get(t, `${p}.noise_const`).data;
      if (strength !== 0 && typeof noise === 'object') noiseMap = noise.random.get(name)![b]!;
      for (let oc = 0; oc < o; oc++) {
        for (let q = 0; q < res * res; q++) {
          const v = y.data[oc * res * res + q]! + (noiseMap === null ? 0 : noiseMap[q]! * strength);
          y.data[oc * res * res + q] = clamp(lrelu(v + bias[oc]!) * Math.SQRT2);
        }
      }
      outs.push(y.data);
    }
    const data = new Float64Array(n * outs[0]!.length);
    outs.forEach((d, b) => data.set(d, b * d.length));
    return { n, c: o, h: res, w: res, data };
  };
  // ToRGBLayer.forward
  const toRgb = (name: string, m: Maps, wIdx: number): Maps => {
    const p = `synthesis.${name}`;
    const weight = get(t, `${p}.weight`);
    const [o, i] = weight.shape as [number, number];
    const aw = get(t, `${p}.affine.weight`);
    const raw = linear(ws.map((s) => s[wIdx]!), aw, get(t, `${p}.affine.bias`), 1 / Math.sqrt(aw.shape[1]!), 1);
    styles.set(name, raw);
    const bias = get(t, `${p}.bias`).data;
    const data = new Float64Array(n * o * m.h * m.w);
    for (let b = 0; b < n; b++) {
      const st = raw[b]!.map((v) => v / Math.sqrt(i));
      const wb = modulate(weight.data, o, i, 1, st, 1, false);
      const y = conv2d(m.data.subarray(b * i * m.h * m.w, (b + 1) * i * m.h * m.w), i, m.h, m.w, wb, o, 1, 0);
      for (let oc = 0; oc < o; oc++) for (let q = 0; q < m.h * m.w; q++) data[(b * o + oc) * m.h * m.w + q] = clamp(y[oc * m.h * m.w + q]! + bias[oc]!);
    }
    return { n, c: o, h: m.h, w: m.w, data };
  };

  const cst = get(t, 'synthesis.b4.const');
  const c4 = cst.shape[0]!;
  const constData = new Float64Array(n * c4 * 16);
  for (let b = 0; b < n; b++) constData.set(cst.data, b * c4 * 16);
  let m: Maps = { n, c: c4, h: 4, w: 4, data: constData };
  let img: Maps | null = null;
  let wIdx = 0;
  for (const r of blocks) {
    if (r === 4) {
      m = layer('b4.conv1', m, wIdx, 1);
      img = toRgb('b4.torgb', m, wIdx + 1);
      wIdx += 1;
      continue;
    }
    m = layer(`b${r}.conv0`, m, wIdx, 2);
    m = layer(`b${r}.conv1`, m, wIdx + 1, 1);
    // upfirdn2d.upsample2d(img, f): padding [(fw + up − 1) // 2, (fw − up) // 2], gain up²
    const up = upfirdn2d(img!, setupFilter(4), 4, 2, 2, 1, 2, 1);
    const y = toRgb(`b${r}.torgb`, m, wIdx + 2);
    img = { ...y, data: y.data.map((v, q) => v + up.data[q]!) };
    wIdx += 2;
  }
  return { image: img!, ws, styles };
}

/**
 * rosinality `Generator.forward([z], truncation=psi, truncation_latent=latent_avg, randomize_noise=False)`
 * (or no noise), tensors named as in its state_dict with an optional prefix.
 */
export function rosinalityForward(t: Map<string, RefTensor>, z: Float64Array[], psi: number, noise: 'const' | 'none', prefix = ''): RefResult {
  const g = (name: string): RefTensor => get(t, prefix + name);
  const n = z.length;
  let x = normalize2ndMoment(z);
  for (let i = 1; t.has(`${prefix}style.${i}.weight`); i++) {
    const w = g(`style.${i}.weight`);
    // EqualLinear(lr_mul=0.01, activation='fused_lrelu'): linear with weight·scale, then fused_leaky_relu(out, bias·lr_mul)
    x = linear(x, w, g(`style.${i}.bias`), (1 / Math.sqrt(w.shape[1]!)) * 0.01, 0.01).map((r) => r.map((v) => lrelu(v) * Math.SQRT2));
  }
  const avg = get(t, 'latent_avg').data;
  const w = x.map((row) => row.map((v, i) => avg[i]! + psi * (v - avg[i]!)));
  let convCount = 0;
  while (t.has(`${prefix}convs.${convCount}.conv.weight`)) convCount++;
  const logSize = convCount / 2 + 2;
  const nLatent = logSize * 2 - 2;
  const latent = w.map((row) => Array.from({ length: nLatent }, () => row));
  const styles = new Map<string, Float64Array[]>();
  const blur = setupFilter(4); // make_kernel(k) * upsample_factor²

  // StyledConv: ModulatedConv2d (fused) → NoiseInjection → FusedLeakyReLU
  const styledConv = (mod: string, nvName: string, m: Maps, lat: number, upsample: boolean, noiseName: string): Maps => {
    const weight = g(`${mod}.conv.weight`);
    const [, o, i, k] = weight.shape as [number, number, number, number];
    const mw = g(`${mod}.conv.modulation.weight`);
    const st = linear(latent.map((l) => l[lat]!), mw, g(`${mod}.conv.modulation.bias`), 1 / Math.sqrt(mw.shape[1]!), 1);
    styles.set(nvName, st);
    const scale = 1 / Math.sqrt(i * k * k);
    const strength = g(`${mod}.noise.weight`).data[0]!;
    const bias = g(`${mod}.activate.bias`).data;
    const res = upsample ? m.h * 2 : m.h;
    const data = new Float64Array(n * o * res * res);
    for (let b = 0; b < n; b++) {
      const wb = modulate(weight.data, o, i, k, st[b]!, scale, true);
      const xb = m.data.subarray(b * i * m.h * m.w, (b + 1) * i * m.h * m.w);
      let y: Float64Array;
      if (upsample) {
        const ct = convTranspose2d(xb, i, m.h, m.w, transpose01(wb, o, i, k), o, k, 2);
        // Blur(blur_kernel, pad=(pad0, pad1), upsample_factor=2), p = (len(kernel) − factor) − (kernel_size − 1)
        const p = 4 - 2 - (k - 1);
        const pad0 = Math.floor((p + 1) / 2) + 2 - 1;
        const pad1 = Math.floor(p / 2) + 1;
        const side = (m.h - 1) * 2 + k;
        y = upfirdn2d({ n: 1, c: o, h: side, w: side, data: ct }, blur, 4, 1, pad0, pad1, pad0, pad1).data;
      } else {
        y = conv2d(xb, i, m.h, m.w, wb, o, k, Math.floor(k / 2));
      }
      const nz = noise === 'const' ? g(noiseName).data : null;
      for (let oc = 0; oc < o; oc++) {
        for (let q = 0; q < res * res; q++) {
          const v = y[oc * res * res + q]! + (nz === null ? 0 : strength * nz[q]!);
          data[(b * o + oc) * res * res + q] = lrelu(v + bias[oc]!) * Math.SQRT2;
        }
      }
    }
    return { n, c: o, h: res, w: res, data };
  };
  // ToRGB: ModulatedConv2d(demodulate=False) + bias, plus Upsample(skip)
  const toRgb = (mod: string, nvName: string, m: Maps, lat: number, skip: Maps | null): Maps => {
    const weight = g(`${mod}.conv.weight`);
    const [, o, i] = weight.shape as [number, number, number];
    const mw = g(`${mod}.conv.modulation.weight`);
    const st = linear(latent.map((l) => l[lat]!), mw, g(`${mod}.conv.modulation.bias`), 1 / Math.sqrt(mw.shape[1]!), 1);
    styles.set(nvName, st);
    const bias = g(`${mod}.bias`).data;
    const data = new Float64Array(n * o * m.h * m.w);
    for (let b = 0; b < n; b++) {
      const wb = modulate(weight.data, o, i, 1, st[b]!, 1 / Math.sqrt(i), false);
      const y = conv2d(m.data.subarray(b * i * m.h * m.w, (b + 1) * i * m.h * m.w), i, m.h, m.w, wb, o, 1, 0);
      for (let oc = 0; oc < o; oc++) for (let q = 0; q < m.h * m.w; q++) data[(b * o + oc) * m.h * m.w + q] = y[oc * m.h * m.w + q]! + bias[oc]!;
    }
    if (skip !== null) {
      // Upsample(kernel, factor=2): p = k − factor, pad0 = (p + 1) // 2 + factor − 1, pad1 = p // 2
      const p = 4 - 2;
      const pad0 = Math.floor((p + 1) / 2) + 1;
      const pad1 = Math.floor(p / 2);
      const up = upfirdn2d(skip, blur, 4, 2, pad0, pad1, pad0, pad1);
      for (let q = 0; q < data.length; q++) data[q]! += up.data[q]!;
    }
    return { n, c: o, h: m.h, w: m.w, data };
  };

  const input = g('input.input');
  const c4 = input.shape[1]!;
  const constData = new Float64Array(n * c4 * 16);
  for (let b = 0; b < n; b++) constData.set(input.data, b * c4 * 16);
  let out: Maps = styledConv('conv1', 'b4.conv1', { n, c: c4, h: 4, w: 4, data: constData }, 0, false, 'noises.noise_0');
  let skip = toRgb('to_rgb1', 'b4.torgb', out, 1, null);
  let i = 1;
  for (let block = 0; block < convCount / 2; block++) {
    const res = 8 * 2 ** block;
    out = styledConv(`convs.${2 * block}`, `b${res}.conv0`, out, i, true, `noises.noise_${2 * block + 1}`);
    out = styledConv(`convs.${2 * block + 1}`, `b${res}.conv1`, out, i + 1, false, `noises.noise_${2 * block + 2}`);
    skip = toRgb(`to_rgbs.${block}`, `b${res}.torgb`, out, i + 2, skip);
    i += 2;
  }
  return { image: skip, ws: latent, styles };
}
