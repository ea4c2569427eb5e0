"""Kernels for kernel inducing points (KIP, Nguyen, Chen & Lee 2021) and label solving.

``make_kernel("conv-ntk", depth=3)`` builds a registered kernel; ``kernel(x1, x2)`` is the
(n1, n2) matrix, differentiable in both inputs; ``krr_predict`` is kernel ridge regression with
it. The infinite-width kernels (``fc-nngp``, ``fc-ntk``, ``conv-nngp``, ``conv-ntk``) are closed
form arc-cosine recursions; ``empirical-ntk`` and ``empirical-nngp`` use a zoo model.
"""

from datadistill.kernels import conv, empirical, fc  # noqa: F401  (register)
from datadistill.kernels.base import KERNELS, Kernel, list_kernels, make_kernel
from datadistill.kernels.conv import ConvKernel, ConvNNGP, ConvNTK
from datadistill.kernels.empirical import EmpiricalNNGP, EmpiricalNTK, empirical_ntk
from datadistill.kernels.fc import FCNNGP, FCNTK, FCKernel
from datadistill.kernels.krr import krr_predict
from datadistill.kernels.recursion import relu_moments

__all__ = [
    "KERNELS",
    "ConvKernel",
    "ConvNNGP",
    "ConvNTK",
    "EmpiricalNNGP",
    "EmpiricalNTK",
    "FCKernel",
    "FCNNGP",
    "FCNTK",
    "Kernel",
    "empirical_ntk",
    "krr_predict",
    "list_kernels",
    "make_kernel",
    "relu_moments",
]
