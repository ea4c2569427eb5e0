"""``vae``: a VAE with one encoder and two decoders carries target images into the source domain
(FashionMNIST → MNIST here: clothing class k ↔ digit k).

The encoder q(z|x) reads a target image; one decoder reconstructs it, the other draws a source
image of the paired class (the same class index), picked at random among the source's Big images
of that class at each step. The loss, per image, is the negative of

    log p(x | z) + log p(x_source | z) − KL(q(z|x) ‖ N(0, σ²I)),

with Bernoulli likelihoods on pixel values in [0, 1] (binary cross-entropy) and σ a setting
(``prior_std``). φ(x) is the source decoder applied to the encoder's mean. The teacher learns the
source's Big images as they are (MNIST-Big); the VAE learns from both domains' Big parts and
never sees the target's Small part or either test split. ``latent_dim=2`` gives the latent map
picture (``transfer.figures.save_latent_map``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from datadistill.datasets.info import DatasetInfo
from datadistill.datasets.tensorset import TensorSet
from datadistill.settings import at_least, positive
from datadistill.transfer.mappings.base import MAPPINGS, Mapping, from_pixels, to_pixels


@dataclass
class VAEConfig:
    """The VAE's size and training (Adam)."""

    latent_dim: int = 16
    hidden: int = 512  # the first hidden layer; the second has half as many units
    prior_std: float = 1.0  # σ of the prior N(0, σ²I)
    epochs: int = 10
    lr: float = 1e-3
    batch_size: int = 128

    def __post_init__(self) -> None:
        at_least(self, 1, "latent_dim", "epochs", "batch_size")
        at_least(self, 2, "hidden")
        positive(self, "prior_std", "lr")


def _decoder(latent: int, hidden: int, out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(latent, hidden // 2),
        nn.ReLU(),
        nn.Linear(hidden // 2, hidden),
        nn.ReLU(),
        nn.Linear(hidden, out),
    )


class PairedVAE(nn.Module):
    """One encoder of target images, a decoder back to them and one to source images (logits)."""

    def __init__(self, target_size: int, source_size: int, latent: int, hidden: int) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(target_size, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden // 2),
            nn.ReLU(),
            nn.Linear(hidden // 2, 2 * latent),
        )
        self.decode_target = _decoder(latent, hidden, target_size)
        self.decode_source = _decoder(latent, hidden, source_size)

    def encode(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z|x) for target pixels in [0, 1]."""
        mu, logvar = self.encoder(pixels.flatten(1)).chunk(2, dim=1)
        return mu, logvar

    def loss(
        self,
        target: torch.Tensor,
        source: torch.Tensor,
        prior_std: float,
        generator: torch.Generator,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The batch mean of −(both reconstruction log-likelihoods) + KL, and its three parts."""
        mu, logvar = self.encode(target)
        eps = torch.randn(mu.shape, generator=generator).to(mu)
        z = mu + eps * (0.5 * logvar).exp()
        n = len(target)
        rec_t = F.binary_cross_entropy_with_logits(
            self.decode_target(z), target.flatten(1), reduction="sum"
        )
        rec_s = F.binary_cross_entropy_with_logits(
            self.decode_source(z), source.flatten(1), reduction="sum"
        )
        var_p = prior_std**2
        kl = 0.5 * ((logvar.exp() + mu.square()) / var_p - 1.0 - logvar + math.log(var_p)).sum()
        total = (rec_t + rec_s + kl) / n
        return total, {"target": rec_t.item() / n, "source": rec_s.item() / n, "kl": kl.item() / n}


@MAPPINGS.register("vae")
class VAE(Mapping):
    Config = VAEConfig
    name = "vae"
    summary = "φ(x) = a VAE's source decoder at the encoder's mean (FashionMNIST → MNIST)"
    trainable = True
    family = "vae"  # the cache key: generated-mnist shares this network

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.net = PairedVAE(
                math.prod(self.target_info.shape),
                math.prod(self.source_info.shape),
                self.config.latent_dim,
                self.config.hidden,
            )
        self.net.eval()
        self.history: list[dict[str, float]] = []

    def check_domains(self) -> None:
        if self.source_info.num_classes != self.target_info.num_classes:
            raise ValueError(
                f"the vae pairs class k of {self.target_info.name} with class k of "
                f"{self.source_info.name}, which have {self.target_info.num_classes} and "
                f"{self.source_info.num_classes} classes"
            )

    def fit(self, source: TensorSet, target: TensorSet, progress: bool = True) -> VAE:
        """Train on the target's images, each paired with a random source image of its class
        (drawn afresh every epoch); ``history`` keeps each epoch's mean loss terms."""
        cfg = self.config
        g = torch.Generator().manual_seed(self.seed)
        device = target.images.device
        self.net.to(device).train()
        opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        t_pix = to_pixels(target.images, self.target_info)
        s_pix = to_pixels(source.images, self.source_info)
        by_class = [source.indices_of(c) for c in range(source.num_classes)]
        n = len(target)
        steps = cfg.epochs * math.ceil(n / cfg.batch_size)
        bar = tqdm(
            total=steps, desc="training the vae", unit="batch", leave=False, disable=not progress
        )
        self.history = []
        with bar:
            for _ in range(cfg.epochs):
                perm = torch.randperm(n, generator=g).to(device)
                sums = {"loss": 0.0, "target": 0.0, "source": 0.0, "kl": 0.0}
                for start in range(0, n, cfg.batch_size):
                    ix = perm[start : start + cfg.batch_size]
                    pair = self._pair(target.labels[ix], by_class, g)
                    loss, parts = self.net.loss(t_pix[ix], s_pix[pair], cfg.prior_std, g)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    for k, v in {"loss": loss.item(), **parts}.items():
                        sums[k] += v * len(ix)
                    bar.update()
                self.history.append({k: round(v / n, 3) for k, v in sums.items()})
        self.net.eval()
        return self

    @staticmethod
    def _pair(
        labels: torch.Tensor, by_class: list[torch.Tensor], g: torch.Generator
    ) -> torch.Tensor:
        """For each label, the index of a random source image of that class."""
        out = torch.empty_like(labels)
        for c, members in enumerate(by_class):
            mask = labels == c
            k = int(mask.sum())
            if k:
                if len(members) == 0:
                    raise ValueError(f"the source has no image of class {c} to pair with")
                pick = torch.randint(len(members), (k,), generator=g).to(members.device)
                out[mask] = members[pick]
        return out

    def forward(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        mu, _ = self.net.encode(to_pixels(x, self.target_info))
        return self.decode(mu)[1]

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent points decoded by both decoders: (target images, source images), normalised."""
        t = torch.sigmoid(self.net.decode_target(z)).view(-1, *self.target_info.shape)
        s = torch.sigmoid(self.net.decode_source(z)).view(-1, *self.source_info.shape)
        return from_pixels(t, self.target_info), from_pixels(s, self.source_info)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The encoder's mean for normalised target images."""
        return self.net.encode(to_pixels(x, self.target_info))[0]

    def teacher_set(
        self, source: TensorSet, target: TensorSet, generator: torch.Generator | None = None
    ) -> TensorSet:
        """The teacher learns the source domain itself (MNIST-Big)."""
        return source

    def domain_info(self) -> DatasetInfo:
        return self.source_info

    def state_dict(self) -> dict[str, torch.Tensor]:
        return dict(self.net.state_dict())

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        try:
            self.net.load_state_dict(state)
        except RuntimeError as e:
            raise ValueError(f"the vae weights do not fit its settings: {e}") from None
        self.net.eval()
