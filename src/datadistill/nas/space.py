"""Search spaces of architectures: named choices per dimension, a seeded sampler of distinct
candidates, and a builder that turns a candidate into a network for a dataset.

A space is one ``SearchSpace`` registered in ``SPACES``; adding one is one entry. A candidate is
a plain frozen mapping of choices, so it prints, hashes and goes into JSON as it is.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from datadistill.datasets.info import DatasetInfo
from datadistill.models.convnet import ConvNet
from datadistill.registry import Registry

Candidate = dict[str, Any]


@dataclass(frozen=True)
class SearchSpace:
    """The choices of each dimension and how a candidate (one choice per dimension) is built."""

    name: str
    choices: Mapping[str, tuple[Any, ...]]
    build_fn: Callable[[Candidate, DatasetInfo], nn.Module]

    def __post_init__(self) -> None:
        if not self.choices or any(len(v) == 0 for v in self.choices.values()):
            empty = [k for k, v in self.choices.items() if not v] or ["(no dimensions)"]
            raise ValueError(f"search space {self.name!r} is empty: no choices for {empty[0]}")

    @property
    def size(self) -> int:
        return math.prod(len(v) for v in self.choices.values())

    def candidate(self, index: int) -> Candidate:
        """The ``index``-th candidate of the space's product, in a fixed order."""
        keys = list(self.choices)
        values = next(itertools.islice(itertools.product(*self.choices.values()), index, None))
        return dict(zip(keys, values, strict=True))

    def sample(self, n: int, seed: int = 0) -> list[Candidate]:
        """``n`` distinct candidates drawn without replacement under ``seed``."""
        if n < 1:
            raise ValueError(f"the number of candidates must be >= 1, got {n}")
        if n > self.size:
            raise ValueError(f"search space {self.name!r} has {self.size} candidates, asked {n}")
        order = torch.randperm(self.size, generator=torch.Generator().manual_seed(seed))
        return [self.candidate(int(i)) for i in order[:n]]

    def build(self, candidate: Candidate, info: DatasetInfo) -> nn.Module:
        unknown = set(candidate) ^ set(self.choices)
        if unknown:
            raise ValueError(
                f"candidate keys {sorted(candidate)} do not match {sorted(self.choices)}"
            )
        return self.build_fn(candidate, info)

    def sampler(
        self, info: DatasetInfo, candidates: list[Candidate] | None = None
    ) -> Callable[[torch.Generator], nn.Module]:
        """A factory of fresh networks, each of a candidate drawn from ``candidates`` (default:
        the whole space) by the given generator: a learner factory for teaching networks."""
        pool = candidates

        def make(generator: torch.Generator) -> nn.Module:
            if pool is None:
                index = int(torch.randint(self.size, (1,), generator=generator))
                chosen = self.candidate(index)
            else:
                chosen = pool[int(torch.randint(len(pool), (1,), generator=generator))]
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(torch.randint(2**31 - 1, (1,), generator=generator)))
                return self.build(chosen, info)

        return make


def candidate_name(candidate: Candidate) -> str:
    """A short readable name, e.g. ``d3-w32-instance-relu-avg``."""
    return "-".join(f"{k[0]}{v}" if isinstance(v, int) else str(v) for k, v in candidate.items())


def _convnet(candidate: Candidate, info: DatasetInfo) -> nn.Module:
    return ConvNet(info.channels, info.num_classes, info.size, **candidate)


SPACES: Registry[SearchSpace] = Registry("search space")
SPACES.register("convnet")(
    SearchSpace(
        "convnet",
        {
            "depth": (1, 2, 3, 4),
            "width": (8, 16, 32, 64),
            "norm": ("instance", "batch", "group", "none"),
            "act": ("relu", "leakyrelu", "sigmoid"),
            "pool": ("avg", "max"),
        },
        _convnet,
    )
)
