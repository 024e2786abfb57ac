"""PyTorch reference for the teacher: the studio's seeded RNG, a StyleGAN2 generator transcribed from
stylegan2-ada-pytorch (training/networks.py, conv2d_resample.py, upfirdn2d.py reference paths) that loads the
studio's NVIDIA-named .safetensors, and the benchmark twin of src/main/bench/teacher.ts. Prints one JSON line.

Commands:
  latents  --pairs SEED:STREAM,... --count N      the first N gaussians of each seed's stream (float64, exact repr)
  forward  --weights F --seeds 1,2 --psi P --out O   render seeds (const noise) to O as raw float32 NCHW
  bench    --weights F --batch 8 --batches 2 --threads T   images per second
"""
import argparse
import json
import math
import struct
import sys
import time

import numpy as np

# torch is imported by main() only for the commands that need it: `latents` must start fast.
torch = None
F = None

# --------------------------------------------------------------------------- the studio's seeded RNG (see rng.ts)

M32 = 0xFFFFFFFF
LN2 = 0.6931471805599453
SQRT_HALF = 0.7071067811865476


def _fmix32(h):
    h &= M32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    h ^= h >> 16
    return h


def _rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


def portable_ln(x):
    m, e = x, 0
    while m >= 2:
        m /= 2
        e += 1
    while m < 1:
        m *= 2
        e -= 1
    if m > 1 / SQRT_HALF:
        m /= 2
        e += 1
    t = (m - 1) / (m + 1)
    t2 = t * t
    s = 0.0
    for k in range(25, 0, -2):
        s = s * t2 + 1 / k
    return e * LN2 + 2 * t * s


class SeededRandom:
    """xoshiro128** seeded through fmix32, uniform doubles from 53 bits, Marsaglia's polar method."""

    def __init__(self, seed, stream=0):
        lo = seed & M32
        hi = (seed >> 32) & M32
        self.s = [
            _fmix32(lo ^ 0x9E3779B9),
            _fmix32(hi ^ 0x243F6A88),
            _fmix32(stream ^ 0xB7E15162),
            _fmix32(((lo + 0x6A09E667) & M32) ^ ((hi * 0x3C6EF372) & M32) ^ stream) | 1,
        ]
        self.spare = None

    def next_uint32(self):
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & M32, 7) * 9) & M32
        t = (s1 << 9) & M32
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def uniform(self):
        a = self.next_uint32() >> 5
        b = self.next_uint32() >> 6
        return (a * 67108864 + b) / 9007199254740992.0

    def gaussian(self):
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        while True:
            u = 2 * self.uniform() - 1
            v = 2 * self.uniform() - 1
            s = u * u + v * v
            if s <= 0 or s >= 1:
                continue
            f = math.sqrt((-2 * portable_ln(s)) / s)
            self.spare = v * f
            return u * f


def latent_from_seed(seed, z_dim):
    rng = SeededRandom(seed, 0)
    return np.array([rng.gaussian() for _ in range(z_dim)], dtype=np.float32)


# --------------------------------------------------------------------------- safetensors, read per the spec

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    data = raw[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float32))
    return out


# --------------------------------------------------------------------------- StyleGAN2 (stylegan2-ada-pytorch)


def setup_filter():
    f = torch.tensor([1.0, 3.0, 3.0, 1.0])
    f = f.ger(f)
    return f / f.sum()


def upfirdn2d(x, f, up=1, padding=(0, 0, 0, 0), gain=1):
    """_upfirdn2d_ref without downsampling; padding = [x0, x1, y0, y1] of the upsampled image."""
    n, c, h, w = x.shape
    px0, px1, py0, py1 = padding
    x = x.reshape(n, c, h, 1, w, 1)
    x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
    x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0) : x.shape[2] - max(-py1, 0), max(-px0, 0) : x.shape[3] - max(-px1, 0)]
    f = (f * gain).flip([0, 1])
    f = f[None, None].repeat(c, 1, 1, 1)
    return F.conv2d(x, f, groups=c)


def conv2d_resample(x, w, f, up, padding, groups):
    """conv2d_resample for the two cases the generator uses: plain (up=1) and transposed + FIR (up=2)."""
    if up == 1:
        return F.conv2d(x, w, padding=padding, groups=groups)
    out_c, in_c_per_group, kh, kw = w.shape
    fw = f.shape[-1]
    p0 = padding + (fw + up - 1) // 2 - (kw - 1)
    p1 = padding + (fw - up) // 2 - (kw - up)
    if groups == 1:
        w = w.transpose(0, 1)
    else:
        w = w.reshape(groups, out_c // groups, in_c_per_group, kh, kw).transpose(1, 2)
        w = w.reshape(groups * in_c_per_group, out_c // groups, kh, kw)
    x = F.conv_transpose2d(x, w, stride=up, groups=groups)
    return upfirdn2d(x, f, padding=(p0, p1, p0, p1), gain=up * up)


def modulated_conv2d(x, weight, styles, noise, up, padding, f, demodulate, fused):
    n = x.shape[0]
    out_c, in_c, kh, kw = weight.shape
    w = weight.unsqueeze(0) * styles.reshape(n, 1, -1, 1, 1)
    dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt() if demodulate else None
    if not fused:
        x = x * styles.reshape(n, -1, 1, 1)
        x = conv2d_resample(x, weight, f, up, padding, 1)
        if demodulate:
            x = x * dcoefs.reshape(n, -1, 1, 1)
        return x + noise if noise is not None else x
    if demodulate:
        w = w * dcoefs.reshape(n, -1, 1, 1, 1)
    x = x.reshape(1, -1, *x.shape[2:])
    x = conv2d_resample(x, w.reshape(-1, in_c, kh, kw), f, up, padding, n)
    x = x.reshape(n, -1, *x.shape[2:])
    return x + noise if noise is not None else x


class Generator:
    """The stylegan2-ada-pytorch generator (skip architecture), parameters taken from an NVIDIA-named state dict."""

    def __init__(self, sd, fused=True):
        self.sd = sd
        self.fused = fused
        self.mapping_layers = 0
        while f"mapping.fc{self.mapping_layers}.weight" in sd:
            self.mapping_layers += 1
        self.resolution = 4
        while f"synthesis.b{self.resolution * 2}.conv0.weight" in sd:
            self.resolution *= 2
        self.blocks = [2**i for i in range(2, int(math.log2(self.resolution)) + 1)]
        self.num_ws = 2 * len(self.blocks)
        self.f = setup_filter()

    def fc(self, x, name, lr_mul, act):
        w, b = self.sd[f"{name}.weight"], self.sd[f"{name}.bias"]
        x = x.matmul((w * (lr_mul / math.sqrt(w.shape[1]))).t()) + b * lr_mul
        return F.leaky_relu(x, 0.2) * math.sqrt(2) if act else x

    def mapping(self, z, psi):
        x = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()
        for i in range(self.mapping_layers):
            x = self.fc(x, f"mapping.fc{i}", 0.01, True)
        ws = x.unsqueeze(1).repeat([1, self.num_ws, 1])
        return self.sd["mapping.w_avg"].lerp(ws, psi) if psi != 1 else ws

    def layer(self, x, w, name, up):
        sd = self.sd
        styles = self.fc(w, f"{name}.affine", 1, False)
        noise = sd[f"{name}.noise_const"] * sd[f"{name}.noise_strength"] if f"{name}.noise_const" in sd else None
        x = modulated_conv2d(x, sd[f"{name}.weight"], styles, noise, up, 1, self.f, True, self.fused)
        return F.leaky_relu(x + sd[f"{name}.bias"].reshape(1, -1, 1, 1), 0.2) * math.sqrt(2)

    def torgb(self, x, w, name):
        weight = self.sd[f"{name}.weight"]
        styles = self.fc(w, f"{name}.affine", 1, False) / math.sqrt(weight.shape[1])
        x = modulated_conv2d(x, weight, styles, None, 1, 0, self.f, False, self.fused)
        return x + self.sd[f"{name}.bias"].reshape(1, -1, 1, 1)

    def synthesis(self, ws):
        n = ws.shape[0]
        x = self.sd["synthesis.b4.const"].unsqueeze(0).repeat([n, 1, 1, 1])
        x = self.layer(x, ws[:, 0], "synthesis.b4.conv1", 1)
        img = self.torgb(x, ws[:, 1], "synthesis.b4.torgb")
        idx = 1
        for r in self.blocks[1:]:
            x = self.layer(x, ws[:, idx], f"synthesis.b{r}.conv0", 2)
            x = self.layer(x, ws[:, idx + 1], f"synthesis.b{r}.conv1", 1)
            img = upfirdn2d(img, self.f, up=2, padding=(2, 1, 2, 1), gain=4) + self.torgb(x, ws[:, idx + 2], f"synthesis.b{r}.torgb")
            idx += 2
        return img

    def __call__(self, z, psi):
        return self.synthesis(self.mapping(z, psi))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["latents", "forward", "bench"])
    parser.add_argument("--pairs", default="0:0")
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--weights")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--psi", type=float, default=1.0)
    parser.add_argument("--out")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--serve", action="store_true", help="bench: answer timing rounds on stdin/stdout (twin_server.py)")
    parser.add_argument("--fused", type=int, default=1, help="1: NVIDIA's inference default (grouped conv), 0: non-fused")
    args = parser.parse_args()

    if args.command == "latents":
        result = []
        for pair in args.pairs.split(","):
            seed, stream = (int(v) for v in pair.split(":"))
            rng = SeededRandom(seed, stream)
            result.append([repr(rng.gaussian()) for _ in range(args.count)])
        print(json.dumps({"gaussians": result}))
        return

    global torch, F
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    G = Generator(read_safetensors(args.weights), fused=bool(args.fused))
    z_dim = G.sd["mapping.fc0.weight"].shape[1]

    if args.command == "forward":
        seeds = [int(s) for s in args.seeds.split(",")]
        z = torch.from_numpy(np.stack([latent_from_seed(s, z_dim) for s in seeds]))
        with torch.no_grad():
            img = G(z, args.psi)
        img.numpy().astype("<f4").tofile(args.out)
        print(json.dumps({"shape": list(img.shape)}))
        return

    z = torch.from_numpy(np.stack([latent_from_seed(s, z_dim) for s in range(args.batch)]))
    info = {"batch": args.batch, "threads": torch.get_num_threads(), "fused_modconv": bool(args.fused),
            "resolution": G.resolution, "torch_version": torch.__version__}
    if args.serve:
        from twin_server import serve
        with torch.no_grad():
            for _ in range(args.warmup):
                G(z, 0.7)
            serve(lambda: G(z, 0.7), info)
        return
    with torch.no_grad():
        for _ in range(args.warmup):
            G(z, 0.7)
        times = []
        for _ in range(args.batches):
            t0 = time.perf_counter()
            G(z, 0.7)
            times.append(time.perf_counter() - t0)
    print(json.dumps({
        "images_per_s": args.batch * len(times) / sum(times),
        "ms_per_batch": 1000.0 * sum(times) / len(times),
        "batches": args.batches,
        **info,
    }))


if __name__ == "__main__":
    sys.exit(main())
