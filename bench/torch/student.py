"""PyTorch reference for the student benchmark: the studio's student UNet (src/main/student/model.ts), its loss and AdamW step, or batch-1 inference; with --serve answers timing rounds (twin_server.py)."""
import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

from twin_server import serve


def make_divisible(c: float, divisor: int = 8) -> int:
    r = max(divisor, int(c + divisor / 2) // divisor * divisor)
    return r + divisor if r < 0.9 * c else r


class Block(nn.Module):
    """Inverted residual: 1x1 expand + act, 3x3 depthwise (stride) + act, 1x1 projection, identity skip when shapes allow."""

    def __init__(self, cin: int, cout: int, hidden: int, stride: int, act: nn.Module) -> None:
        super().__init__()
        self.expand = nn.Conv2d(cin, hidden, 1)
        self.depthwise = nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden)
        self.project = nn.Conv2d(hidden, cout, 1)
        self.act = act
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.act(self.depthwise(self.act(self.expand(x)))))
        return x + y if self.skip else y


class Student(nn.Module):
    """Stem, four encoder levels of two inverted residuals, four decoder levels with nearest x2 and skips, head, bounded residual."""

    def __init__(self, width: float, activation: str, residual_scale: float) -> None:
        super().__init__()
        act = nn.ReLU6() if activation == "relu6" else nn.Hardswish()
        ch = [make_divisible(c * width) for c in (16, 24, 32, 64, 96)]
        self.scale = residual_scale
        self.act = act
        self.stem = nn.Conv2d(3, ch[0], 3, 2, 1)
        self.enc = nn.ModuleList(
            nn.Sequential(Block(ch[i - 1], ch[i], ch[i - 1] * 4, 2, act), Block(ch[i], ch[i], ch[i] * 4, 1, act)) for i in range(1, 5)
        )
        self.dec = nn.ModuleList(Block(ch[i + 1] + ch[i], ch[i], ch[i] * 2, 1, act) for i in range(3, -1, -1))
        self.head = nn.Conv2d(ch[0] + 3, 3, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.stem(x * 2 - 1))
        skips = [h]
        for level in self.enc:
            h = level(h)
            skips.append(h)
        for i, block in zip(range(3, -1, -1), self.dec):
            h = block(torch.cat([F.interpolate(h, scale_factor=2, mode="nearest"), skips[i]], 1))
        head = self.head(torch.cat([F.interpolate(h, scale_factor=2, mode="nearest"), x], 1))
        return x + self.scale * torch.tanh(head)


def loss_of(out: torch.Tensor, y: torch.Tensor, ms_weight: float) -> torch.Tensor:
    """L1 plus ms_weight times the multi-scale L1 at 1/2 and 1/4 (2x2 average pooling), as the studio's training graph."""
    loss = (out - y).abs().mean()
    p, t, ms = out, y, 0.0
    for _ in range(2):
        p, t = F.avg_pool2d(p, 2), F.avg_pool2d(t, 2)
        ms = ms + (p - t).abs().mean()
    return loss + ms_weight * ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["train", "infer"], default="train")
    parser.add_argument("--config", default='{"size": 256, "width": 1, "activation": "relu6", "residualScale": 1}')
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--ms-weight", type=float, default=0.5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--serve", action="store_true", help="answer timing rounds on stdin/stdout")
    args = parser.parse_args()

    cfg = json.loads(args.config)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Student(cfg["width"], cfg["activation"], cfg["residualScale"])
    size = cfg["size"]
    params = sum(p.numel() for p in model.parameters())

    if args.mode == "train":
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
        x = torch.rand(args.batch, 3, size, size)
        y = torch.rand(args.batch, 3, size, size)

        def step() -> None:
            opt.zero_grad(set_to_none=True)
            loss = loss_of(model(x), y, args.ms_weight)
            loss.backward()
            if args.clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()

    else:
        model.eval()
        x = torch.rand(1, 3, size, size)

        def step() -> None:
            with torch.inference_mode():
                model(x)

    for _ in range(args.warmup):
        step()
    info = {"torch_version": torch.__version__, "params": params, "threads": torch.get_num_threads(), "mode": args.mode}
    if args.serve:
        serve(step, info)
    else:
        print(json.dumps(info))


if __name__ == "__main__":
    main()
