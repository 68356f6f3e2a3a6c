"""The exception tree of intermt-schema.

::

    IntermtError
     ├── SchemaError (also ValueError)        a document does not fit the schema
     ├── ValidationError (also ValueError)    a report holds errors (Report.raise_for_errors)
     ├── ReadError (also OSError)             a source cannot be listed, opened or read
     ├── WriteError (also OSError)            an output cannot go where it was asked to
     ├── ConversionError (also ValueError)    a conversion cannot express its input
     ├── UnknownNameError (also KeyError)   a format or dimension-set name is not registered
     ├── OptionError (also ValueError)      an option's name or value is not one a function takes
     └── MissingDependencyError (also ImportError)  an optional extra is not installed

Every exception subclasses a builtin too, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only: the report module imports this one
    from .validation._report import Report

__all__ = [
    "ConversionError",
    "IntermtError",
    "MissingDependencyError",
    "OptionError",
    "ReadError",
    "SchemaError",
    "UnknownNameError",
    "ValidationError",
    "WriteError",
    "check_choice",
    "require",
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


class ValidationError(IntermtError, ValueError):
    """A validation report holds errors; ``report`` is the whole report."""

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


class ReadError(IntermtError, OSError):
    """A source (file, folder, URL) cannot be listed, opened or read to the end; the
    message names it and says why."""


class WriteError(IntermtError, OSError):
    """An output cannot go where it was asked to (a folder holding other files)."""


class ConversionError(IntermtError, ValueError):
    """A conversion cannot express its input and was asked not to drop anything."""


class UnknownNameError(IntermtError, KeyError):
    """A name (format, dimension set) is not registered; the message lists those that are."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class OptionError(IntermtError, ValueError):
    """An option is not taken, or its value is not one of the valid ones; the message
    lists what is valid (the command line exits with 2)."""


def check_choice(name: str, value: object, choices: Iterable[object]) -> None:
    """Raise :class:`OptionError` unless ``value`` is one of ``choices``.

    >>> check_choice("level", "path", ("tree", "path", "pair"))
    >>> check_choice("level", "nonsense", ("tree", "path", "pair"))
    Traceback (most recent call last):
    ...
    intermt_schema.OptionError: unknown level 'nonsense'; choose from tree, path, pair
    """
    valid = list(choices)
    if value not in valid:
        raise OptionError(f"unknown {name} {value!r}; choose from {', '.join(map(str, valid))}")


class MissingDependencyError(IntermtError, ImportError):
    """An optional dependency is missing; the message says what to install."""


def require(module: str, extra: str) -> ModuleType:
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
