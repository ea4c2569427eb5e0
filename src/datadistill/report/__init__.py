"""Reports: pictures of sets, result records."""

from datadistill.report.grid import save_grid, to_pixels
from datadistill.report.records import append_record, make_record

__all__ = ["append_record", "make_record", "save_grid", "to_pixels"]
