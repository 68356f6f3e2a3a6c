"""Rating dimensions, declared as data, and a registry of dimension sets.

>>> INTERMT.get("style_coherence").allows(-1)
True
>>> sorted(d.key for d in INTERMT.of_scope("local"))[:2]
['context_coherence', 'local_image_text_consistency']
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable, Iterator

from msgspec import Struct, field

from .._errors import UnknownNameError
from ._structs import DialogueTree, Role, Scope

__all__ = [
    "DESIRABLE",
    "INTERMT",
    "KTO",
    "OASST",
    "Dimension",
    "DimensionSet",
    "available_dimension_sets",
    "combined_sets",
    "dimensions_of",
    "get_dimension_set",
    "known_dimensions",
    "register_dimension_set",
]


class Dimension(Struct, frozen=True, kw_only=True):
    """One rated quality: its key, scope, scale and special values.

    The scale is the integers ``low..high``, or every number between them when ``real``
    (1.2). ``targets`` are the roles whose messages a local rating may score.

    >>> Dimension(key="x", title="X", scope="local").allows(4)
    False
    >>> Dimension(key="x", title="X", scope="local", high=1, real=True).allows(0.25)
    True
    """

    key: str
    title: str
    scope: Scope
    low: int | float = 0
    high: int | float = 3
    real: bool = False
    special: dict[int, str] = field(default_factory=dict)
    targets: tuple[Role, ...] = ("assistant",)
    description: str = ""

    def allows(self, score: int | float) -> bool:
        """Whether ``score`` is on the scale or one of the special values: an integer
        scale takes integers only.

        >>> INTERMT.get("text_quality").allows(2.0)
        False
        """
        if type(score) is not int and not (self.real and type(score) is float):
            return False
        return self.low <= score <= self.high or score in self.special

    def scale(self) -> str:
        """The scale as text: ``0..3``, or ``0..1 (real)``.

        >>> OASST.get("quality").scale()
        '0..1 (real)'
        """
        return f"{self.low}..{self.high}" + (" (real)" if self.real else "")


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
            if not d.real and d.targets == ("assistant",)
            for score in (*range(int(d.low), int(d.high) + 1), *d.special)
        )
        """Every ``(dimension, scope, score)`` one set lookup can pass: the integer
        scores of dimensions rating assistant messages. Others are checked one by one."""

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


DESIRABLE = "desirable"
"""The key of the ``kto`` set's one dimension: an answer's unpaired label."""

KTO = DimensionSet(
    "kto",
    [
        Dimension(
            key=DESIRABLE,
            title="Desirable",
            scope=_L,
            high=1,
            description="An unpaired label: 1 the answer is desirable, 0 it is not (KTO's "
            "`label`, LLaMA-Factory's `kto_tag`).",
        )
    ],
)
"""Unpaired good/bad labels on answers, as KTO trains on them."""


_OASST_LABELS = {
    "spam": "Spam",
    "fails_task": "Fails the task",
    "lang_mismatch": "Language mismatch",
    "pii": "Personal information",
    "not_appropriate": "Not appropriate",
    "hate_speech": "Hate speech",
    "sexual_content": "Sexual content",
    "moral_judgement": "Moral judgement",
    "political_content": "Political content",
    "quality": "Quality",
    "toxicity": "Toxicity",
    "humor": "Humor",
    "helpfulness": "Helpfulness",
    "creativity": "Creativity",
    "violence": "Violence",
}
OASST = DimensionSet(
    "oasst",
    [
        Dimension(
            key=key,
            title=title,
            scope=_L,
            high=1,
            real=True,
            targets=("user", "assistant"),
            description="The mean of the Open-Assistant volunteers' answers, 0..1.",
        )
        for key, title in _OASST_LABELS.items()
    ],
)
"""Open-Assistant's message labels: means in 0..1 over the volunteers who answered, on
questions and answers alike."""


_REGISTRY: dict[str, DimensionSet] = {s.name: s for s in (INTERMT, KTO, OASST)}


def register_dimension_set(dimensions: DimensionSet) -> None:
    """Make a dimension set available by name; warns when it replaces one.

    >>> register_dimension_set(DimensionSet("doc-example", []))
    >>> get_dimension_set("doc-example").name
    'doc-example'
    """
    if dimensions.name in _REGISTRY:
        warnings.warn(f"dimension set {dimensions.name!r} replaced", stacklevel=2)
    _REGISTRY[dimensions.name] = dimensions
    _combined.cache_clear()


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


def dimensions_of(tree: DialogueTree, default: DimensionSet) -> tuple[DimensionSet, list[str]]:
    """The dimensions ``tree``'s ratings use: the sets it declares, together, or
    ``default`` when it declares none; with the declared names no set is registered
    under, and keys two declared sets share.

    >>> from intermt_schema import TreeMeta
    >>> tree = DialogueTree(id="t", meta=TreeMeta(dimension_sets=["kto", "nope"]))
    >>> dims, problems = dimensions_of(tree, INTERMT)
    >>> dims.keys(), problems
    (['desirable'], ["no dimension set is registered as 'nope'"])
    """
    names = tree.meta.dimension_sets
    if names is None:
        return default, []
    return combined_sets(names, default)


def combined_sets(names: Iterable[str], default: DimensionSet) -> tuple[DimensionSet, list[str]]:
    """The dimensions of the sets called ``names`` together (``""`` names ``default``),
    the first set's where two share a key; with what is wrong: names no set is
    registered under, keys two sets share.

    >>> dims, problems = combined_sets(["", "kto"], INTERMT)
    >>> len(dims), problems
    (10, [])
    """
    return _combined(tuple(names), default)


@functools.lru_cache(maxsize=64)
def _combined(names: tuple[str, ...], default: DimensionSet) -> tuple[DimensionSet, list[str]]:
    problems: list[str] = []
    found: dict[str, Dimension] = {}
    for name in dict.fromkeys(names):
        dimension_set = default if name == "" else _REGISTRY.get(name)
        if dimension_set is None:
            problems.append(f"no dimension set is registered as {name!r}")
            continue
        for dim in dimension_set:
            if dim.key in found:
                problems.append(f"dimension {dim.key!r} is declared by two sets")
            else:
                found[dim.key] = dim
    return DimensionSet("+".join(names), found.values()), problems


def available_dimension_sets() -> list[str]:
    """Names of the registered dimension sets."""
    return sorted(_REGISTRY)
