"""Peak memory of a block of work, in MiB: on a GPU the CUDA allocator's peak; on a CPU the
process's peak resident set (``VmHWM``, reset by writing 5 to ``/proc/self/clear_refs``, Linux
only), which includes the data and libraries already loaded. ``None`` where neither is available.

    with PeakMemory(device) as peak:
        work()
    peak.mb
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import torch

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _rss_peak_kib() -> int | None:
    try:
        match = re.search(r"VmHWM:\s+(\d+)\s+kB", _STATUS.read_text())
    except OSError:
        return None
    return int(match.group(1)) if match else None


class PeakMemory:
    """Resets the peak on entry; ``mb`` holds the peak reached inside the block on exit."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.mb: float | None = None

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            with contextlib.suppress(OSError):  # no /proc: the peak stays the process's
                _CLEAR_REFS.write_text("5")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.mb = round(torch.cuda.max_memory_allocated(self.device) / 2**20, 1)
        else:
            kib = _rss_peak_kib()
            self.mb = None if kib is None else round(kib / 1024, 1)
