#!/usr/bin/python3
"""Plain PyTorch baseline of one training step of the paper's MNIST hypernetwork.

Deutsch 2018, "Generating Neural Networks With Neural Networks" (facts in
shared/paper/reference-notes.md). Written the way a typical researcher would write it
in PyTorch, without special optimisation, to compare the C++ trainer's steps/s against
on the same machine. Random MNIST-shaped images and labels: this is a timing benchmark,
not a training run.

  hypernetwork: z (300, U[-1,1]) -> extractor 300-300-300-855 -> 57 codes of 15 ->
                W1 15-40-40-26 (x32), W2 15-100-100-801 (x16), W3 15-100-100-785 (x8),
                W4 15-60-60-90 (x1, as [10, 9]); bias-free linears, LeakyReLU(0.05),
                BatchNorm after each hidden activation; 633,640 parameters.
  target net:   conv5x5x32 SAME, ReLU, pool2 -> conv5x5x16 SAME, ReLU, pool2 ->
                dense 8 ReLU -> dense 10 (20,018 generated weights).
  loss:         1e3 * mean cross-entropy - H, H = Kozachenko-Leonenko entropy (L2) of the
                gauge-fixed weights. Adam lr 3e-4 (x 0.99998 per step).

Run (Debian's python, which sees python3-torch; `apt-get install -y python3-torch`):
  /usr/bin/python3 bench/baseline_pytorch.py --threads 2            # loop over 32 networks
  /usr/bin/python3 bench/baseline_pytorch.py --threads 2 --batched  # grouped conv, groups=32
Last line: baseline_pytorch steps_per_second=<x> threads=<n> torch=<version>
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

Z_DIM, CODE, N_NETS, N_IMGS, LAMBDA = 300, 15, 32, 32, 1e3
FILTERS = (32, 16, 8, 1)        # codes per layer: 32 + 16 + 8 + 1 = 57; 57 * 15 = 855
N_L = (26, 801, 785)            # filter sizes (weights + bias) of layers 1..3


def mlp(sizes):
    """Bias-free MLP: Linear -> LeakyReLU(0.05) -> BatchNorm on hidden layers only."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, bias=False))
        if i < len(sizes) - 2:
            layers += [nn.LeakyReLU(0.05), nn.BatchNorm1d(b, eps=1e-7, momentum=0.02)]
    return nn.Sequential(*layers)


class HyperNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.extractor = mlp([Z_DIM, 300, 300, CODE * sum(FILTERS)])
        self.w1 = mlp([CODE, 40, 40, 26])
        self.w2 = mlp([CODE, 100, 100, 801])
        self.w3 = mlp([CODE, 100, 100, 785])
        self.w4 = mlp([CODE, 60, 60, 90])
        for m in self.modules():
            if isinstance(m, nn.Linear):  # variance scaling, scale 0.01, fan-in, normal
                nn.init.normal_(m.weight, std=math.sqrt(0.01 / m.in_features))

    def forward(self, z):
        """z [B, 300] -> per-layer weights [B,32,26], [B,16,801], [B,8,785], [B,10,9]."""
        b = z.shape[0]
        codes = self.extractor(z).view(b, sum(FILTERS), CODE)
        c1, c2, c3, c4 = torch.split(codes, FILTERS, dim=1)
        return (self.w1(c1.reshape(-1, CODE)).view(b, 32, 26),
                self.w2(c2.reshape(-1, CODE)).view(b, 16, 801),
                self.w3(c3.reshape(-1, CODE)).view(b, 8, 785),
                self.w4(c4.reshape(-1, CODE)).view(b, 10, 9))


def gauge_fix(t1, t2, t3, t4):
    """Scale-normalise filters of layers 1..3 (compensating in the next layer's input
    channels), then make the 10 logit biases sum to zero. Returns flat [B, 20018]."""
    b = t1.shape[0]
    s = torch.sqrt((t1 ** 2).sum(-1) / N_L[0] + 1e-8)                          # [B,32]
    t1 = t1 / s[..., None]
    w2, b2 = t2[..., :-1].reshape(b, 16, 32, 25), t2[..., -1:]                  # (in,ky,kx)
    t2 = torch.cat([(w2 * s[:, None, :, None]).reshape(b, 16, 800), b2], -1)
    s = torch.sqrt((t2 ** 2).sum(-1) / N_L[1] + 1e-8)                          # [B,16]
    t2 = t2 / s[..., None]
    w3, b3 = t3[..., :-1].reshape(b, 8, 16, 49), t3[..., -1:]                   # NCHW flat
    t3 = torch.cat([(w3 * s[:, None, :, None]).reshape(b, 8, 784), b3], -1)
    s = torch.sqrt((t3 ** 2).sum(-1) / N_L[2] + 1e-8)                          # [B,8]
    t3 = t3 / s[..., None]
    w4, b4 = t4[..., :-1] * s[:, None, :], t4[..., -1:]
    t4 = torch.cat([w4, b4 - b4.mean(1, keepdim=True)], -1)
    return torch.cat([t.reshape(b, -1) for t in (t1, t2, t3, t4)], 1)


def entropy(flat):
    """Kozachenko-Leonenko: d * mean log(nearest-neighbour L2 distance) + digamma(N)."""
    n = flat.shape[0]
    dist = torch.cdist(flat, flat)
    dist = dist.masked_fill(torch.eye(n, dtype=torch.bool), float("inf"))
    nn_dist = dist.min(dim=1).values
    return Z_DIM * torch.log(nn_dist + 1e-8).mean() + torch.digamma(torch.tensor(float(n)))


def target_loop(t1, t2, t3, t4, x):
    """Straightforward: one generated network at a time on its own images.
    x [B, 32, 1, 28, 28] -> logits [B, 32, 10]."""
    out = []
    for i in range(t1.shape[0]):
        h = F.conv2d(x[i], t1[i, :, :-1].reshape(32, 1, 5, 5), t1[i, :, -1], padding=2)
        h = F.max_pool2d(F.relu(h), 2)
        h = F.conv2d(h, t2[i, :, :-1].reshape(16, 32, 5, 5), t2[i, :, -1], padding=2)
        h = F.max_pool2d(F.relu(h), 2).flatten(1)                             # [32, 784]
        h = F.relu(F.linear(h, t3[i, :, :-1], t3[i, :, -1]))
        out.append(F.linear(h, t4[i, :, :-1], t4[i, :, -1]))
    return torch.stack(out)


def target_batched(t1, t2, t3, t4, x):
    """All networks at once: networks become channel groups of a grouped conv
    (groups=B), the dense layers become batched matmuls."""
    b, m = x.shape[:2]
    h = x.transpose(0, 1).reshape(m, b, 28, 28)                                # [M, B*1, ..]
    h = F.conv2d(h, t1[..., :-1].reshape(b * 32, 1, 5, 5), t1[..., -1].reshape(-1),
                 padding=2, groups=b)
    h = F.max_pool2d(F.relu(h), 2)
    h = F.conv2d(h, t2[..., :-1].reshape(b * 16, 32, 5, 5), t2[..., -1].reshape(-1),
                 padding=2, groups=b)
    h = F.max_pool2d(F.relu(h), 2).reshape(m, b, 784).transpose(0, 1)        # [B, M, 784]
    h = F.relu(torch.baddbmm(t3[:, None, :, -1], h, t3[..., :-1].transpose(1, 2)))
    return torch.baddbmm(t4[:, None, :, -1], h, t4[..., :-1].transpose(1, 2))


def train_step(net, opt, sched, target, x, y):
    z = torch.rand(N_NETS, Z_DIM) * 2 - 1
    t1, t2, t3, t4 = net(z)
    logits = target(t1, t2, t3, t4, x)
    ce = F.cross_entropy(logits.reshape(-1, 10), y.reshape(-1))
    loss = LAMBDA * ce - entropy(gauge_fix(t1, t2, t3, t4))
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    return loss.item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batched", action="store_true", help="grouped conv instead of loop")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(8734)

    net = HyperNet()
    n_params = sum(p.numel() for p in net.parameters())
    assert n_params == 633_640, n_params
    opt = torch.optim.Adam(net.parameters(), lr=3e-4)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.99998)
    target = target_batched if args.batched else target_loop
    # Each network gets its own 32 images; random stand-ins for MNIST (pixels in [0,1]).
    x = torch.rand(N_NETS, N_IMGS, 1, 28, 28)
    y = torch.randint(0, 10, (N_NETS, N_IMGS))

    for _ in range(args.warmup):
        train_step(net, opt, sched, target, x, y)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss = train_step(net, opt, sched, target, x, y)
    sps = args.steps / (time.perf_counter() - t0)
    print(f"variant={'batched' if args.batched else 'loop'} params={n_params} "
          f"last_loss={loss:.3f}")
    print(f"baseline_pytorch steps_per_second={sps:.3f} threads={args.threads} "
          f"torch={torch.__version__}")


if __name__ == "__main__":
    main()
