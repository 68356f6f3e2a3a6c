"""The rule table and the validation options.

``RULES`` lists every issue code the library emits, with its default severity and
what it means; ``spec/SPEC.md`` and the golden cases under ``tests/cases/`` are held
equal to it by tests.

>>> RULES["tree.role_order"][0]
'error'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..schema._dimensions import INTERMT, DimensionSet
from ._images import ImageLimits
from ._report import Issue, Severity

__all__ = [
    "DEFAULT_OPTIONS",
    "RULES",
    "IssueCollector",
    "RoleOrder",
    "ValidationOptions",
    "rule_issue",
]

_IMAGE_RULES: dict[str, tuple[Severity, str]] = {
    "image.no_source": ("error", "an image has neither bytes, path nor uri"),
    "image.absolute_path": ("error", "an image path is absolute"),
    "image.escapes_root": ("error", "an image path leaves the dataset root"),
    "image.path_is_url": ("error", "an image path is a URL"),
    "image.not_posix": ("error", "an image path is not POSIX: it uses backslashes or a NUL byte"),
    "image.missing": ("error", "an image file does not exist"),
    "image.undecodable": ("error", "an image does not decode"),
    "image.too_large": ("error", "an image exceeds the pixel or byte limit"),
    "image.sha256_mismatch": ("error", "an image's bytes do not have its declared sha256"),
}


def _media_text(text: str) -> str:
    """An image rule's meaning, said of a video or audio file."""
    text = text.replace("an image's", "a media file's").replace("an image file", "a media file")
    text = text.replace("an image", "a media file").replace("the pixel or byte", "the byte")
    return text.replace("does not decode", "is not a video or audio format this reader knows")


RULES: dict[str, tuple[Severity, str]] = {
    "schema.json": ("error", "the record is not valid JSON"),
    "schema.type": ("error", "a field is missing, has the wrong type, or is out of its range"),
    "schema.version": ("error", "the schema_version is not one this reader understands"),
    "record.too_large": ("error", "the record exceeds the maximum record size"),
    "file.unreadable": ("error", "a file cannot be listed, opened or read to the end"),
    "tree.duplicate_id": ("error", "two nodes share an id"),
    "tree.no_root": ("error", "no node is a root (parent null)"),
    "tree.multiple_roots": ("error", "more than one node is a root"),
    "tree.missing_parent": ("error", "a node's parent does not exist"),
    "tree.cycle": ("error", "following parents from a node never reaches the root"),
    "tree.role_order": ("error", "roles do not alternate user/assistant after an optional system"),
    "tree.too_large": ("error", "the tree exceeds a limit: nodes, depth, path messages or pairs"),
    "message.empty": ("warning", "a message has no content parts"),
    "text.leftover_markup": ("info", "text holds generation leftovers such as '[[' or ']]'"),
    "meta.dimension_sets": (
        "error",
        "a declared dimension set is not registered, or two declared sets share a key",
    ),
    "rating.missing_target": ("error", "a rating names a node that does not exist"),
    "rating.unknown_dimension": ("error", "a rating's dimension is not in the dimension set"),
    "rating.wrong_scope": ("error", "a rating's scope does not fit its dimension or target"),
    "rating.out_of_scale": (
        "error",
        "a score is outside the dimension's scale, or a float on an integer scale",
    ),
    "judgment.missing_target": ("error", "a judgment names a node that does not exist"),
    "judgment.self_pair": ("error", "a judgment compares a target with itself"),
    "judgment.not_siblings": ("error", "a local judgment compares nodes that are not siblings"),
    "judgment.wrong_scope": ("error", "a judgment target or dimension does not fit its scope"),
    "judgment.unknown_dimension": ("error", "a judgment's dimension is not in the dimension set"),
    **_IMAGE_RULES,
    **{  # video and audio files (1.1) follow the image rules, under their own codes
        code.replace("image.", "media.", 1): (severity, _media_text(text))
        for code, (severity, text) in _IMAGE_RULES.items()
    },
    "tool.no_call": ("warning", "a tool message answers no tool call of the message before it"),
    "corpus.duplicate_tree_id": ("warning", "a tree id was already used by an earlier record"),
    "import.bad_record": ("error", "an imported record cannot be read into conversations"),
    "import.placeholder_mismatch": (
        "warning",
        "a turn's image placeholders and images differ in number; text kept verbatim",
    ),
    "import.round_gap": ("warning", "an imported turn's round number is not the next one"),
    "merge.conflict": ("error", "one message id has different content or parent in two records"),
    "merge.image_variant": ("info", "one message has other image paths in another record"),
}


"""Every rule: code -> (default severity, what it means)."""


RoleOrder = Literal["alternate", "any"]


def rule_issue(
    code: str,
    message: str,
    *,
    path: str = "",
    tree: str | None = None,
    file: str | None = None,
    line: int | None = None,
    strict: bool = False,
) -> Issue:
    """The issue of a rule in ``RULES``, with the rule's severity (a warning is an error
    when ``strict``); an unknown code is a ``KeyError``.

    >>> rule_issue("import.round_gap", "expected round 2", file="a.json", line=3).render()
    'a.json:3: warning import.round_gap: expected round 2'
    """
    severity = RULES[code][0]
    if strict and severity == "warning":
        severity = "error"
    return Issue(
        code=code, severity=severity, message=message, path=path, tree=tree, file=file, line=line
    )


@dataclass(frozen=True)
class ValidationOptions:
    """How to validate.

    - ``strict``: warnings count as errors.
    - ``role_order``: ``"alternate"`` (user/assistant after an optional system) or ``"any"``.
    - ``images_root``: where relative image paths resolve (a folder or fsspec URL).
    - ``check_images``: open every image, video and audio file: images must decode
      (needs Pillow), and video and audio headers name a known container.
    - ``max_nodes`` / ``max_depth``: bounds on tree size.
    - ``max_path_messages``: a bound on the messages of all root-to-leaf paths together
      (what a training export writes), beyond 32 per node; ``max_pairs``: on the pairs
      of rated sibling answers and of rated paths (what ``strategy="all"`` makes).
      Both can grow with the square of a tree's size; these bounds keep a small record
      from making an export a bomb.
    """

    dimensions: DimensionSet = INTERMT
    strict: bool = False
    role_order: RoleOrder = "alternate"
    images_root: str | None = None
    check_images: bool = False
    max_nodes: int = 1_000_000
    max_depth: int = 100_000
    max_path_messages: int = 1_000_000
    max_pairs: int = 200_000
    image_limits: ImageLimits = field(default_factory=ImageLimits)


DEFAULT_OPTIONS = ValidationOptions()


class IssueCollector:
    """Appends issues with the tree's locator and the configured severity."""

    __slots__ = ("issues", "line", "source", "strict", "tree")

    def __init__(self, tree: str | None, source: str | None, line: int | None, strict: bool):
        self.issues: list[Issue] = []
        self.tree, self.source, self.line, self.strict = tree, source, line, strict

    def add(self, code: str, path: str, message: str) -> None:
        self.issues.append(
            rule_issue(
                code,
                message,
                path=path,
                tree=self.tree,
                file=self.source,
                line=self.line,
                strict=self.strict,
            )
        )
