"""The mappings φ from the student's domain into the teacher's; each registers itself on import."""

from datadistill.transfer.mappings import (  # noqa: F401  (register)
    dilated_conv,
    generated,
    identity,
    noise,
    style,
    vae,
)
from datadistill.transfer.mappings.base import (
    MAPPINGS,
    Mapping,
    create_mapping,
    list_mappings,
    load_mapping,
    save_mapping,
)

__all__ = [
    "MAPPINGS",
    "Mapping",
    "create_mapping",
    "list_mappings",
    "load_mapping",
    "save_mapping",
]
