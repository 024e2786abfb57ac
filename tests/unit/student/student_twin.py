# PyTorch twin of src/main/student/model.ts: the same UNet written independently, for parameter, MAC and output checks.
import json
import sys

import numpy as np
import torch
from torch import nn


def make_divisible(c, divisor=8):
    r = max(divisor, int(c + divisor / 2) // divisor * divisor)
    return r + divisor if r < 0.9 * c else r


class Act(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.f = nn.ReLU6() if kind == "relu6" else nn.Hardswish()

    def forward(self, x):
        return self.f(x)


class Block(nn.Module):
    def __init__(self, cin, cout, hidden, stride, act):
        super().__init__()
        self.expand = nn.Conv2d(cin, hidden, 1)
        self.depthwise = nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden)
        self.project = nn.Conv2d(hidden, cout, 1)
        self.act = Act(act)
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        y = self.project(self.act(self.depthwise(self.act(self.expand(x)))))
        return x + y if self.skip else y


class Student(nn.Module):
    def __init__(self, width, act, residual_scale):
        super().__init__()
        ch = [make_divisible(c * width) for c in (16, 24, 32, 64, 96)]
        self.scale = residual_scale
        self.stem = nn.Conv2d(3, ch[0], 3, 2, 1)
        self.act = Act(act)
        self.enc = nn.ModuleList()
        for level in range(1, 5):
            self.enc.append(nn.Sequential(Block(ch[level - 1], ch[level], ch[level - 1] * 4, 2, act), Block(ch[level], ch[level], ch[level] * 4, 1, act)))
        self.dec = nn.ModuleDict()
        for level in range(3, -1, -1):
            self.dec[str(level)] = Block(ch[level + 1] + ch[level], ch[level], ch[level] * 2, 1, act)
        self.head = nn.Conv2d(ch[0] + 3, 3, 3, 1, 1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")

    def named_for_studio(self):
        out = {"stem": self.stem, "head": self.head}
        for i, seq in enumerate(self.enc):
            for j, b in enumerate(seq):
                for part in ("expand", "depthwise", "project"):
                    out[f"enc{i + 1}.{j}.{part}"] = getattr(b, part)
        for level, b in self.dec.items():
            for part in ("expand", "depthwise", "project"):
                out[f"dec{level}.{part}"] = getattr(b, part)
        return out

    def forward(self, x):
        s = self.act(self.stem(x * 2 - 1))
        skips = [s]
        h = s
        for seq in self.enc:
            h = seq(h)
            skips.append(h)
        for level in range(3, -1, -1):
            h = self.dec[str(level)](torch.cat([self.up(h), skips[level]], 1))
        head = self.head(torch.cat([self.up(h), x], 1))
        return x + self.scale * torch.tanh(head)


def main():
    cfg = json.loads(sys.argv[1])
    model = Student(cfg["width"], cfg["activation"], cfg["residualScale"])
    macs = 0

    def hook(mod, inp, out):
        nonlocal macs
        macs += out.numel() // out.shape[0] * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(hook)
    result = {"parameters": sum(p.numel() for p in model.parameters())}
    if len(sys.argv) > 2:
        folder = sys.argv[2]
        manifest = json.load(open(f"{folder}/weights.json"))
        blob = np.fromfile(f"{folder}/weights.bin", dtype=np.float32)
        convs = model.named_for_studio()
        with torch.no_grad():
            for name, (offset, shape) in manifest.items():
                layer, kind = name.rsplit(".", 1)
                values = torch.from_numpy(blob[offset : offset + int(np.prod(shape))].copy()).reshape(shape)
                getattr(convs[layer], kind).copy_(values)
            x = torch.from_numpy(np.fromfile(f"{folder}/input.bin", dtype=np.float32).copy()).reshape(1, 3, cfg["size"], cfg["size"])
            y = model(x)
        y.numpy().astype(np.float32).tofile(f"{folder}/output.bin")
    else:
        with torch.no_grad():
            model(torch.zeros(1, 3, cfg["size"], cfg["size"]))
    result["macs"] = macs
    print(json.dumps(result))


main()
