"""Kernels for KIP: symmetry and positive semi-definiteness of every registered kernel, the
arc-cosine formula by hand, agreement with wide random networks, kernel ridge regression,
gradients to the inputs, and the one-line setting errors.

Wide-network references use the NTK parametrisation (weights N(0, 1) scaled by √(w_var/fan_in),
biases by √b_var). NNGP estimates are the readout's covariance given the last hidden layer,
w_var · φ(x1)·φ(x2) / fan_in + b_var, averaged over seeds; NTK estimates are ``empirical_ntk``.
Measured (these seeds, relative error Frobenius / worst entry): fc depth 2 at width 4096 × 4
seeds: NNGP 3.2 % / 5.5 %, NTK 2.0 % / 5.8 %; conv depth 2 on 4×4 images at width 1024 × 8
seeds: NNGP 2.0 % / 3.3 % (flatten), 2.4 % / 3.1 % (gap); at width 512 × 4 seeds: NTK 1.2 % /
3.3 %. With more networks the error keeps falling (conv NNGP at width 256 × 128 seeds: 0.3 % /
0.7 %), so it is finite-width noise, not a bias of the recursion.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd import gradcheck

from datadistill.datasets.info import DatasetInfo
from datadistill.kernels import empirical_ntk, krr_predict, list_kernels, make_kernel
from datadistill.registry import UnknownNameError

TINY = DatasetInfo("tiny", 1, (8, 8), 3, ("a", "b", "c"), (0.0,), (1.0,))

# (name, settings, image shape): the table every cross-cutting test runs over.
CASES = [
    ("fc-nngp", {"depth": 2}, (1, 4, 4)),
    ("fc-ntk", {"depth": 3}, (2, 3, 3)),
    ("conv-nngp", {"depth": 2}, (2, 5, 5)),
    ("conv-ntk", {"depth": 3}, (2, 5, 5)),
    ("conv-nngp", {"depth": 2, "readout": "gap"}, (2, 4, 4)),
    ("conv-ntk", {"depth": 2, "readout": "gap"}, (2, 4, 4)),
    ("empirical-ntk", {"model": "convnet-w32", "info": TINY}, TINY.shape),
    ("empirical-nngp", {"model": "mlp", "info": TINY}, TINY.shape),
]
W_VAR, B_VAR = 2.0, 0.1


def _randn(*shape: int, seed: int = 0) -> Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _rel(estimate: Tensor, exact: Tensor) -> tuple[float, float]:
    """Relative error: Frobenius, and of the worst entry."""
    diff = estimate.double() - exact
    return float(diff.norm() / exact.norm()), float((diff.abs() / exact.abs()).max())


def test_every_kernel_is_in_the_table() -> None:
    assert {name for name, _, _ in CASES} == set(list_kernels())


@pytest.mark.parametrize(("name", "settings", "shape"), CASES)
def test_symmetric_psd_and_consistent(name: str, settings: dict, shape: tuple) -> None:
    kernel = make_kernel(name, **settings)
    x, y = _randn(7, *shape, seed=1), _randn(4, *shape, seed=2)
    k = kernel(x, x).double()
    assert k.shape == (7, 7)
    assert torch.equal(k, k.T)
    eig = torch.linalg.eigvalsh(k)
    assert eig.min() >= -1e-6 * eig.max()
    tol = 1e-12 if kernel.dtype == "float64" else 1e-5
    torch.testing.assert_close(kernel.diag(x).double(), k.diagonal(), rtol=tol, atol=tol)
    cross = kernel(x, y)
    torch.testing.assert_close(cross, kernel(y, x).T, rtol=tol, atol=tol)
    chunked = make_kernel(name, **{**settings, "chunk": 3})
    torch.testing.assert_close(chunked(x, y), cross, rtol=tol, atol=tol)
    torch.testing.assert_close(chunked(x, x).double(), k, rtol=tol, atol=tol)
    record = kernel.settings()  # what a set file stores; it rebuilds the same kernel
    rebuilt = make_kernel(kernel.name, **{**record, **({"info": TINY} if "info" in record else {})})
    assert rebuilt == kernel


def test_fc_nngp_and_ntk_by_hand() -> None:
    """One hidden layer on x = (1, 0), x' = (1, 1): Σ¹ = w_var x·x'/2 + b_var, then the
    arc-cosine formula of Cho & Saul (2009) written out."""
    w, b = 2.0, 0.5
    s11, s22, s12 = w * 1 / 2 + b, w * 2 / 2 + b, w * 1 / 2 + b  # 1.5, 2.5, 1.5
    theta = math.acos(s12 / math.sqrt(s11 * s22))
    kphi = (
        math.sqrt(s11 * s22)
        / (2 * math.pi)
        * (math.sin(theta) + (math.pi - theta) * math.cos(theta))
    )
    nngp = w * kphi + b
    ntk = nngp + w * (math.pi - theta) / (2 * math.pi) * s12
    x = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    k = make_kernel("fc-nngp", depth=1, w_var=w, b_var=b)(x, x)
    assert k[0, 1].item() == pytest.approx(nngp, rel=1e-12)
    assert k[0, 0].item() == pytest.approx(w * s11 / 2 + b, rel=1e-12)  # E[relu(u)²] = Σ/2
    t = make_kernel("fc-ntk", depth=1, w_var=w, b_var=b)(x, x)
    assert t[0, 1].item() == pytest.approx(ntk, rel=1e-12)
    assert t[1, 1].item() == pytest.approx(w * s22 / 2 + b + w * s22 / 2, rel=1e-12)


class WideFC(nn.Module):
    """A ReLU MLP in the NTK parametrisation, one output."""

    def __init__(self, d: int, width: int, depth: int, seed: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        dims = [d, *[width] * depth, 1]
        self.weights = nn.ParameterList(
            [
                nn.Parameter(torch.randn(o, i, generator=g))
                for i, o in zip(dims[:-1], dims[1:], strict=True)
            ]
        )
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.randn(o, generator=g)) for o in dims[1:]]
        )

    def layer(self, i: int, a: Tensor) -> Tensor:
        w = self.weights[i]
        return a @ w.T * math.sqrt(W_VAR / w.shape[1]) + math.sqrt(B_VAR) * self.biases[i]

    def features(self, x: Tensor) -> Tensor:
        a = x.flatten(1)
        for i in range(len(self.weights) - 1):
            a = F.relu(self.layer(i, a))
        return a

    def forward(self, x: Tensor) -> Tensor:
        return self.layer(len(self.weights) - 1, self.features(x))


class WideConv(nn.Module):
    """A ReLU ConvNet (3×3 same convolutions, no pooling) in the NTK parametrisation."""

    def __init__(self, c: int, width: int, depth: int, hw: int, readout: str, seed: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        ins = [c, *[width] * (depth - 1)]
        self.convs = nn.ParameterList(
            [nn.Parameter(torch.randn(width, i, 3, 3, generator=g)) for i in ins]
        )
        self.biases = nn.ParameterList([nn.Parameter(torch.randn(width, generator=g)) for _ in ins])
        fan = width * hw * hw if readout == "flatten" else width
        self.head = nn.Parameter(torch.randn(1, fan, generator=g))
        self.head_bias = nn.Parameter(torch.randn(1, generator=g))
        self.readout = readout

    def features(self, x: Tensor) -> Tensor:
        a = x
        for i in range(len(self.convs)):
            w = self.convs[i]
            scale = math.sqrt(W_VAR / (w.shape[1] * 9))
            a = F.relu(
                F.conv2d(a, w, padding=1) * scale + math.sqrt(B_VAR) * self.biases[i][:, None, None]
            )
        return a.flatten(1) if self.readout == "flatten" else a.mean((2, 3))

    def forward(self, x: Tensor) -> Tensor:
        f = self.features(x)
        return f @ self.head.T * math.sqrt(W_VAR / f.shape[1]) + math.sqrt(B_VAR) * self.head_bias


def _nngp_estimate(nets: list[nn.Module], x: Tensor) -> Tensor:
    """The readout covariance given the last hidden layer, averaged over networks."""
    out = []
    for net in nets:
        f = net.features(x)
        out.append(W_VAR * f @ f.T / f.shape[1] + B_VAR)
    return torch.stack(out).mean(0)


def _ntk_estimate(nets: list[nn.Module], x: Tensor) -> Tensor:
    return torch.stack([empirical_ntk(net, x, x, same=True) for net in nets]).mean(0)


@torch.no_grad()
def test_fc_kernels_match_wide_networks() -> None:
    x = _randn(6, 1, 4, 4, seed=3)
    nets = [WideFC(16, 4096, 2, seed).requires_grad_(False) for seed in range(4)]
    settings = {"depth": 2, "w_var": W_VAR, "b_var": B_VAR}
    frob, worst = _rel(_nngp_estimate(nets, x), make_kernel("fc-nngp", **settings)(x, x))
    assert frob < 0.06 and worst < 0.10
    frob, worst = _rel(_ntk_estimate(nets, x), make_kernel("fc-ntk", **settings)(x, x))
    assert frob < 0.06 and worst < 0.10


@pytest.mark.parametrize("readout", ["flatten", "gap"])
@torch.no_grad()
def test_conv_nngp_matches_wide_networks(readout: str) -> None:
    x = _randn(5, 2, 4, 4, seed=4)
    nets = [WideConv(2, 1024, 2, 4, readout, seed).requires_grad_(False) for seed in range(8)]
    exact = make_kernel("conv-nngp", depth=2, w_var=W_VAR, b_var=B_VAR, readout=readout)(x, x)
    frob, worst = _rel(_nngp_estimate(nets, x), exact)
    assert frob < 0.05 and worst < 0.08


@torch.no_grad()
def test_conv_ntk_matches_wide_networks() -> None:
    x = _randn(5, 2, 4, 4, seed=4)
    nets = [WideConv(2, 512, 2, 4, "flatten", seed).requires_grad_(False) for seed in range(4)]
    exact = make_kernel("conv-ntk", depth=2, w_var=W_VAR, b_var=B_VAR)(x, x)
    frob, worst = _rel(_ntk_estimate(nets, x), exact)
    assert frob < 0.05 and worst < 0.08


@pytest.mark.parametrize("name", ["fc-ntk", "conv-ntk", "conv-nngp"])
def test_krr_interpolates_its_support(name: str) -> None:
    kernel = make_kernel(name, depth=2)
    x, y = _randn(8, 2, 5, 5, seed=5), _randn(8, 3, seed=6)
    # the same tensor, a copy (the cross path), one target column
    for target, labels in ((x, y), (x.clone(), y), (x, y[:, 0])):
        out = krr_predict(kernel, x, labels, target, reg=1e-12)
        torch.testing.assert_close(out, labels.double(), atol=1e-6, rtol=0)


def test_krr_relative_regulariser() -> None:
    kernel = make_kernel("fc-nngp", depth=2)
    x, y, t = _randn(6, 1, 3, 3, seed=7), _randn(6, 2, seed=8), _randn(4, 1, 3, 3, seed=9)
    lam = 0.3 * kernel(x, x).trace().item() / 6
    torch.testing.assert_close(
        krr_predict(kernel, x, y, t, reg=0.3), krr_predict(kernel, x, y, t, reg=lam, relative=False)
    )
    with pytest.raises(ValueError, match="float targets"):
        krr_predict(kernel, x, torch.arange(6), t)


@pytest.mark.parametrize(
    ("name", "settings"),
    [
        ("fc-ntk", {}),
        ("conv-ntk", {}),
        ("conv-ntk", {"chunk": 2}),
        ("conv-ntk", {"readout": "gap"}),
    ],
)
def test_gradcheck(name: str, settings: dict) -> None:
    """Exact gradients to the images: a cross block, a set against itself (the diagonal's
    ρ = 1 case), the diagonal alone, and a KRR prediction through both; ``chunk=2`` takes the
    checkpointed, mirrored block path."""
    kernel = make_kernel(name, depth=2, **settings)
    a = _randn(3, 2, 3, 3, seed=10).double().requires_grad_()
    b = _randn(2, 2, 3, 3, seed=11).double().requires_grad_()
    labels = _randn(3, 2, seed=12).double().requires_grad_()
    assert gradcheck(lambda u, v: kernel(u, v), (a, b))
    assert gradcheck(lambda u: kernel(u, u), (a,))
    assert gradcheck(kernel.diag, (a,))
    assert gradcheck(lambda u, y: krr_predict(kernel, u, y, b), (a, labels))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["fc-ntk", "conv-ntk"])
def test_gradients_finite_for_duplicate_images(name: str, dtype: str) -> None:
    """A target image equal to a support image (ρ = 1 between different tensors)."""
    x = _randn(4, 1, 5, 5, seed=13).requires_grad_()
    k = make_kernel(name, depth=2, dtype=dtype)(x, torch.cat([x[:2].detach(), x[2:].detach()]))
    (grad,) = torch.autograd.grad(k.sum(), x)
    assert grad.isfinite().all()


def test_float32_close_to_float64() -> None:
    x = _randn(5, 2, 6, 6, seed=14)
    k64 = make_kernel("conv-ntk", depth=3)(x, x)
    k32 = make_kernel("conv-ntk", depth=3, dtype="float32")(x, x)
    assert k32.dtype == torch.float32
    torch.testing.assert_close(k32.double(), k64, rtol=1e-5, atol=1e-5)


def test_empirical_ntk_gradients_reach_the_images() -> None:
    kernel = make_kernel("empirical-ntk", model="mlp", info=TINY, seed=3)
    x = _randn(3, *TINY.shape, seed=15).requires_grad_()
    (grad,) = torch.autograd.grad(kernel(x, _randn(2, *TINY.shape, seed=16)).sum(), x)
    assert grad.isfinite().all() and grad.abs().sum() > 0
    assert kernel.settings() == {
        "dtype": "float32",
        "chunk": 16,
        "model": "mlp",
        "info": "tiny",
        "seed": 3,
    }


@pytest.mark.parametrize(
    ("name", "settings", "needle"),
    [
        ("fc-ntk", {"widht": 3}, "widht"),
        ("fc-ntk", {"depth": 0}, "depth"),
        ("conv-nngp", {"w_var": 0.0}, "w_var"),
        ("conv-ntk", {"b_var": -1.0}, "b_var"),
        ("conv-ntk", {"readout": "max"}, "readout"),
        ("fc-nngp", {"dtype": "float16"}, "dtype"),
        ("fc-nngp", {"chunk": -1}, "chunk"),
        ("empirical-ntk", {"model": "mlp"}, "info"),
    ],
)
def test_make_kernel_errors_are_one_line(name: str, settings: dict, needle: str) -> None:
    with pytest.raises(ValueError) as err:
        make_kernel(name, **settings)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_unknown_kernel_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError) as err:
        make_kernel("rbf")
    assert "conv-ntk" in str(err.value) and "\n" not in str(err.value)


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="expected images"):
        make_kernel("conv-ntk")(torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="differ"):
        make_kernel("fc-ntk")(torch.zeros(2, 4), torch.zeros(2, 5))
