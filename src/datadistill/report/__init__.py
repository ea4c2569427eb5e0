"""Reports: pictures of sets, result records."""

from datadistill.report.grid import save_grid, to_pixels

__all__ = ["save_grid", "to_pixels"]
