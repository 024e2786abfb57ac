"""PyTorch reference for the train-step benchmark: the same depthwise-separable UNet, batch and thread count as src/main/bench/train-step.ts; prints one JSON line, or with --serve answers timing rounds (twin_server.py)."""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from twin_server import serve


class DwPw(nn.Module):
    """relu(pw(relu(dw3x3(x)))): the MobileNet block of the benchmark architecture."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin, bias=True)
        self.pw = nn.Conv2d(cin, cout, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.pw(F.relu(self.dw(x))))


class BenchUNet(nn.Module):
    """The exact architecture of the benchmark (see src/main/bench/train-step.ts)."""

    def __init__(self) -> None:
        super().__init__()
        self.enc1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=True)
        self.enc2 = DwPw(16, 32, 2)
        self.enc3 = DwPw(32, 64, 2)
        self.mid = DwPw(64, 64, 1)
        self.dec2 = DwPw(96, 32, 1)
        self.dec1 = DwPw(48, 16, 1)
        self.head = nn.Conv2d(16, 3, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = F.relu(self.enc1(x))
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        m = self.mid(e3)
        d2 = self.dec2(torch.cat([F.interpolate(m, scale_factor=2, mode="nearest"), e2], dim=1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, scale_factor=2, mode="nearest"), e1], dim=1))
        return x + self.head(d1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help="answer timing rounds on stdin/stdout instead")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = BenchUNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(args.batch, 3, args.size, args.size)
    y = torch.rand(args.batch, 3, args.size, args.size)

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        loss = (model(x) - y).abs().mean()
        loss.backward()
        opt.step()
        return float(loss)

    for _ in range(args.warmup):
        step()
    params = sum(p.numel() for p in model.parameters())
    if args.serve:
        serve(step, {"torch_version": torch.__version__, "params": params, "threads": torch.get_num_threads()})
        return
    times = []
    loss = float("nan")
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append((time.perf_counter() - t0) * 1000.0)
    print(json.dumps({
        "ms_per_step": statistics.median(times),
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "size": args.size,
        "steps": args.steps,
        "loss": loss,
        "params": params,
        "torch_version": torch.__version__,
    }))


if __name__ == "__main__":
    main()
