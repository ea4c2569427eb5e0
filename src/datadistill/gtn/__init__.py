"""Generative teaching networks: a generator of training data for fresh learners.

``train_generator`` trains one (method ``gtn``'s loop, with an optional sampler of learners);
``load_generator`` reads one back from its file or from a ``gtn`` set, and
``TeachingGenerator.emit(ipc, seed)`` makes a ``SyntheticSet`` of any size.
"""

from datadistill.gtn.generator import (
    GeneratorConfig,
    TeachingGenerator,
    generator_of,
    load_generator,
    save_generator,
)
from datadistill.gtn.hypergrad import implicit_hypergradient, neumann_inverse_hvp
from datadistill.gtn.train import train_generator

__all__ = [
    "GeneratorConfig",
    "TeachingGenerator",
    "generator_of",
    "implicit_hypergradient",
    "load_generator",
    "neumann_inverse_hvp",
    "save_generator",
    "train_generator",
]
