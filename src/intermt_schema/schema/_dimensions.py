"""Rating dimensions, declared as data, and a registry of dimension sets.

>>> INTERMT.get("style_coherence").allows(-1)
True
>>> sorted(d.key for d in INTERMT.of_scope("local"))[:2]
['context_coherence', 'local_image_text_consistency']
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator

from msgspec import Struct, field

from .._errors import UnknownNameError
from ._structs import Scope

__all__ = [
    "INTERMT",
    "Dimension",
    "DimensionSet",
    "available_dimension_sets",
    "get_dimension_set",
    "known_dimensions",
    "register_dimension_set",
]


class Dimension(Struct, frozen=True, kw_only=True):
    """One rated quality: its key, scope, integer scale and special values.

    >>> Dimension(key="x", title="X", scope="local").allows(4)
    False
    """

    key: str
    title: str
    scope: Scope
    low: int = 0
    high: int = 3
    special: dict[int, str] = field(default_factory=dict)
    description: str = ""

    def allows(self, score: int) -> bool:
        """Whether ``score`` is on the scale or one of the special values."""
        return self.low <= score <= self.high or score in self.special


class DimensionSet:
    """An ordered, named collection of dimensions.

    >>> ds = DimensionSet("mine", [Dimension(key="x", title="X", scope="global")])
    >>> "x" in ds, len(ds)
    (True, 1)
    """

    def __init__(self, name: str, dimensions: Iterable[Dimension]) -> None:
        self.name = name
        self._by_key: dict[str, Dimension] = {}
        for dim in dimensions:
            if dim.key in self._by_key:
                raise ValueError(f"dimension {dim.key!r} is declared twice in set {name!r}")
            self._by_key[dim.key] = dim
        self.valid_scores: frozenset[tuple[str, str, int]] = frozenset(
            (d.key, d.scope, score)
            for d in self._by_key.values()
            for score in (*range(d.low, d.high + 1), *d.special)
        )
        """Every valid ``(dimension, scope, score)``: one set lookup checks a rating."""

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self) -> Iterator[Dimension]:
        return iter(self._by_key.values())

    def __len__(self) -> int:
        return len(self._by_key)

    def __repr__(self) -> str:
        return f"DimensionSet({self.name!r}, {list(self._by_key)})"

    def get(self, key: str) -> Dimension:
        """The dimension called ``key``; ``KeyError`` if the set has none."""
        return self._by_key[key]

    def keys(self) -> list[str]:
        """Dimension keys in declaration order."""
        return list(self._by_key)

    def of_scope(self, scope: Scope) -> list[Dimension]:
        """The dimensions of one scope, in declaration order."""
        return [d for d in self._by_key.values() if d.scope == scope]


_G: Scope = "global"


_L: Scope = "local"


INTERMT = DimensionSet(
    "intermt",
    [
        Dimension(
            key="context_awareness",
            title="Context Awareness",
            scope=_G,
            description="Uses what earlier turns established, text and images alike.",
        ),
        Dimension(
            key="helpfulness",
            title="Helpfulness and Completeness",
            scope=_G,
            description="Answers what was asked, fully, across the conversation.",
        ),
        Dimension(
            key="crucial_step_recognition",
            title="Crucial Step Recognition",
            scope=_G,
            description="Recognises the turns that decide the conversation's outcome.",
        ),
        Dimension(
            key="global_image_text_consistency",
            title="Global Image-Text Consistency",
            scope=_G,
            description="Images and text agree with each other over the whole conversation.",
        ),
        Dimension(
            key="style_coherence",
            title="Style Coherence",
            scope=_G,
            special={-1: "image generation was required but no image was given"},
            description="Generated images keep a consistent style across turns.",
        ),
        Dimension(
            key="local_image_text_consistency",
            title="Local Image-Text Consistency",
            scope=_L,
            description="The turn's images match its text.",
        ),
        Dimension(
            key="visual_perceptual_quality",
            title="Visual Perceptual Quality",
            scope=_L,
            description="The turn's images are clear, realistic and free of artefacts.",
        ),
        Dimension(
            key="context_coherence",
            title="Contextual Coherence",
            scope=_L,
            description="The turn follows from the conversation so far.",
        ),
        Dimension(
            key="text_quality",
            title="Text Quality",
            scope=_L,
            description="The turn's text is fluent, correct and well organised.",
        ),
    ],
)


"""InterMT's nine dimensions, keyed as the InterMT-Bench code keys them. Scale 0..3:
0 fails or is irrelevant, 1 partial with major errors, 2 mostly fine, 3 perfect."""


_REGISTRY: dict[str, DimensionSet] = {INTERMT.name: INTERMT}


def register_dimension_set(dimensions: DimensionSet) -> None:
    """Make a dimension set available by name; warns when it replaces one.

    >>> register_dimension_set(DimensionSet("doc-example", []))
    >>> get_dimension_set("doc-example").name
    'doc-example'
    """
    if dimensions.name in _REGISTRY:
        warnings.warn(f"dimension set {dimensions.name!r} replaced", stacklevel=2)
    _REGISTRY[dimensions.name] = dimensions


def get_dimension_set(name: str) -> DimensionSet:
    """A registered dimension set by name; the error lists the registered names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown dimension set {name!r}; available: {', '.join(sorted(_REGISTRY))}"
        ) from None


def known_dimensions() -> list[str]:
    """Every dimension key of every registered dimension set, sorted.

    >>> "text_quality" in known_dimensions()
    True
    """
    return sorted({d.key for dimension_set in _REGISTRY.values() for d in dimension_set})


def available_dimension_sets() -> list[str]:
    """Names of the registered dimension sets."""
    return sorted(_REGISTRY)
