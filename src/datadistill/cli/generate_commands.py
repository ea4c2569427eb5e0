"""The generate sub-commands (filled in by the generate subpackage's work)."""

from __future__ import annotations

from typing import Any


def add_parsers(sub: Any, add_data_args: Any) -> None:
    """Register this module's sub-commands on sub."""
