"""One generic registry; one instance per kind of thing (datasets, models, methods, augmentations)."""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """Raised for a name that no registry entry has; the message lists the known names."""

    def __str__(self) -> str:
        return str(self.args[0])


class Registry(Generic[T]):
    """Maps a name to a constructor, so that adding an entry is one decorator line."""

    def __init__(self, kind: str, modules: tuple[str, ...] = ()) -> None:
        """``modules``: packages whose import registers the entries, imported on first lookup
        (for a registry whose entries live in packages that import it)."""
        self.kind = kind
        self._modules = modules
        self._entries: dict[str, T] = {}

    def _populate(self) -> None:
        while self._modules:
            module, *rest = self._modules
            self._modules = tuple(rest)
            importlib.import_module(module)

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            return obj

        return decorator

    def remove(self, name: str) -> None:
        """Drop an entry (for tests that register a temporary method)."""
        del self._entries[name]

    def get(self, name: str) -> T:
        self._populate()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries))
            raise UnknownNameError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self, pattern: str = "*") -> list[str]:
        self._populate()
        return sorted(n for n in self._entries if fnmatch.fnmatch(n, pattern))

    def __contains__(self, name: object) -> bool:
        self._populate()
        return name in self._entries
