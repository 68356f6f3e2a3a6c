"""The exception tree of intermt-schema.

::

    IntermtError
     ├── SchemaError (also ValueError)        a document does not fit the schema
     ├── ConversionError (also ValueError)    a conversion cannot express its input
     ├── UnknownNameError (also KeyError)   a format or dimension-set name is not registered
     └── MissingDependencyError (also ImportError)  an optional extra is not installed

Every exception subclasses a builtin too, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "ConversionError",
    "IntermtError",
    "MissingDependencyError",
    "SchemaError",
    "UnknownNameError",
]


class IntermtError(Exception):
    """Base class of every error this library raises on purpose."""


class SchemaError(IntermtError, ValueError):
    """A document does not fit the schema.

    ``path`` is a JSON pointer to the offending field (``""`` for the whole document).
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class ConversionError(IntermtError, ValueError):
    """A conversion cannot express its input and was asked not to drop anything."""


class UnknownNameError(IntermtError, KeyError):
    """A name (format, dimension set) is not registered; the message lists those that are."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class MissingDependencyError(IntermtError, ImportError):
    """An optional dependency is missing; the message says what to install."""


def require(module: str, extra: str) -> object:
    """Import an optional dependency, or raise with the install hint.

    >>> require("json", "none").__name__
    'json'
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            f"{module} is required for this feature: pip install 'intermt-schema[{extra}]'"
        ) from exc
