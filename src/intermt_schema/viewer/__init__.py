"""Self-contained HTML pages of dialogue trees: ``intermt show``.

A page shows the tree as a branching layout of collapsible messages, each with its
text and images in order, the ratings as a heat strip of the nine dimensions (local on
an assistant turn, global on the last message of a rated path), the judgments beside
the messages they compare, annotator rationales on hover and on click, and validation
issues on the message they concern. It needs no network: styles and script are
inline, and images are inlined as data URIs or linked by relative path.

Every value from the dataset goes through Jinja2's autoescaping, so text in a dataset
cannot inject markup or script. Trees of any depth render: the page is built from a
flat list of open and close events, without recursion.

>>> import intermt_schema as im
>>> tree = im.DialogueTree(id="t", nodes=[
...     im.Message(id="q", role="user", content=[im.TextPart("<b>hi</b>")])])
>>> html = render_tree(tree)
>>> "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html
True
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from .._errors import check_choice, require
from ..io._fs import atomic_output, safe_name
from ..schema._dimensions import INTERMT, DimensionSet, dimensions_of
from ..schema._structs import (
    DialogueTree,
    ImageRef,
    Judgment,
    MediaRef,
    Message,
    Rating,
    ReasoningPart,
    ToolCallPart,
    media_of,
)
from ..tree._view import TreeView
from ..validation._checks import validate
from ..validation._containment import path_problem, read_under_root
from ..validation._images import ImageLimits, media_kind
from ..validation._report import Issue
from ..validation._rules import ValidationOptions
from ._cells import EXPANDED_LIMIT, FOLD_CHARS, Cell, NodeView, _short, _strip, anchor

__all__ = [
    "EXPANDED_LIMIT",
    "FOLD_CHARS",
    "IMAGE_MODES",
    "Cell",
    "ImageMode",
    "NodeView",
    "anchor",
    "page_name",
    "render_index",
    "render_tree",
    "write_pages",
]

ImageMode = Literal["inline", "link"]
IMAGE_MODES: tuple[ImageMode, ...] = ("inline", "link")


def page_name(tree_id: str) -> str:
    """A safe file name for a tree's page.

    >>> page_name("../etc/x")
    'etc-x-2215be.html'
    """
    return safe_name(tree_id, ".html")


class _Images:
    """Image sources for ``<img src>``: data URIs, or paths relative to the page."""

    def __init__(self, mode: ImageMode, root: str | None, page_dir: str) -> None:
        self.mode, self.root, self.page_dir = mode, root, page_dir
        self.limits = ImageLimits()

    def source(self, ref: ImageRef | MediaRef, kind: str = "image") -> tuple[str | None, str]:
        """``(src, note)`` of an image, video or audio file (``kind``): src is None when
        the file cannot be shown offline."""
        if ref.bytes is not None:
            return self._data_uri(ref.bytes, ref.mime, kind), ""
        if ref.path:
            problem = path_problem(ref.path)
            if problem is not None:
                return None, problem[1]
            if self.root is None:
                return None, f"{ref.path} (no images root)"
            if self.mode == "link" and "://" not in self.root:
                full = os.path.join(self.root, ref.path)
                relative = os.path.relpath(full, self.page_dir).replace(os.sep, "/")
                return relative, ""
            data, error = read_under_root(ref.path, self.root, self.limits.max_bytes)
            if data is None or len(data) > self.limits.max_bytes:
                return None, error[1] if error else f"{ref.path}: larger than the byte limit"
            return self._data_uri(data, ref.mime, kind), ""
        if ref.uri and ref.uri.startswith(f"data:{kind}/"):
            return ref.uri, ""
        return None, f"remote {kind} {ref.uri} (not loaded: the page works offline)"

    @staticmethod
    def _data_uri(data: bytes, mime: str | None, kind: str = "image") -> str:
        if not (mime and re.fullmatch(rf"{kind}/[a-z0-9.+-]+", mime)):
            sniffed = media_kind(data) if kind != "image" else None
            mime = sniffed if sniffed and sniffed.startswith(kind) else _DEFAULT_MIME[kind]
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


_DEFAULT_MIME = {"image": "image/png", "video": "video/mp4", "audio": "audio/wav"}


def _node_of_issue(issue: Issue, tree: DialogueTree) -> str | None:
    """The node an issue concerns, from its JSON pointer; None for the whole tree."""
    match = re.match(r"^/(nodes|ratings|judgments)/(\d+)", issue.path)
    if not match:
        return None
    index = int(match.group(2))
    kind = match.group(1)
    if kind == "nodes" and index < len(tree.nodes):
        return tree.nodes[index].id
    if kind == "ratings" and index < len(tree.ratings):
        return tree.ratings[index].target
    if kind == "judgments" and index < len(tree.judgments):
        return tree.judgments[index].a
    return None


def _judgment(j: Judgment) -> dict[str, Any]:
    return {
        "a": j.a,
        "b": j.b,
        "a_anchor": anchor(j.a),
        "b_anchor": anchor(j.b),
        "scope": j.scope,
        "overall": j.overall,
        "outcomes": sorted(j.outcomes.items()),
        "annotator": j.annotator,
        "rationale": j.rationale,
    }


def _context(
    tree: DialogueTree,
    images: _Images,
    dimensions: DimensionSet,
    options: ValidationOptions,
) -> dict[str, Any]:
    view = TreeView(tree)
    report = validate(tree, options)
    dimensions = dimensions_of(tree, dimensions)[0]  # the sets the tree declares
    issues_by_node: dict[str | None, list[Issue]] = {}
    for issue in report:
        issues_by_node.setdefault(_node_of_issue(issue, tree), []).append(issue)
    ratings_by_target: dict[str, list[Rating]] = {}
    for r in tree.ratings:
        ratings_by_target.setdefault(r.target, []).append(r)
    local_judgments: dict[str | None, list[dict[str, Any]]] = {}
    global_judgments = []
    for j in tree.judgments:
        entry = _judgment(j)
        if j.scope == "local" and j.a in view.by_id:
            local_judgments.setdefault(view.by_id[j.a].parent, []).append(entry)
        else:
            global_judgments.append(entry)

    def node_view(m: Message) -> NodeView:
        parts: list[dict[str, Any]] = []
        for p in m.content:
            found = media_of(p)
            if found is not None:
                kind, ref = found
                src, note = images.source(ref, kind)
                label = ref.path or ref.uri or f"inline {kind}"
                parts.append({"kind": kind, "src": src, "label": label, "note": note})
            elif type(p) is ToolCallPart:
                call = f"{p.name}({json.dumps(p.arguments, ensure_ascii=False)})"
                parts.append({"kind": "tool_call", "text": call, "id": p.call_id})
            else:
                text = getattr(p, "text", "")
                kind = "reasoning" if type(p) is ReasoningPart else "text"
                parts.append({"kind": kind, "text": text, "long": len(text) > FOLD_CHARS})
        rated = ratings_by_target.get(m.id, [])
        return NodeView(
            id=m.id,
            anchor=anchor(m.id),
            role=m.role,
            parts=parts,
            model=m.generator.model if m.generator else None,
            local=_strip(rated, "local", dimensions),
            path_strip=_strip(rated, "global", dimensions),
            judgments=local_judgments.get(m.id, []),
            issues=issues_by_node.get(m.id, []),
            children=len(view.children(m.id)),
        )

    events: list[tuple[str, NodeView | None]] = []
    large = len(tree.nodes) > EXPANDED_LIMIT
    stack: list[tuple[Message, int]] = [(r, 0) for r in reversed(view.roots)]
    while stack:  # depth-first, without recursion: "open" a node, later "close" it
        node, depth = stack.pop()
        if depth < 0:
            events.append(("close", None))
            continue
        shown = node_view(node)
        shown.expanded = not large or depth < 2
        events.append(("open", shown))
        stack.append((node, -1))
        stack.extend((c, depth + 1) for c in reversed(view.children(node.id)))
    unreachable = len(tree.nodes) - sum(1 for kind, _ in events if kind == "open")
    return {
        "tree": tree,
        "events": events,
        "root_judgments": local_judgments.get(None, []),
        "global_judgments": global_judgments,
        "tree_issues": issues_by_node.get(None, [])
        + [
            i for k, v in issues_by_node.items() if k is not None and k not in view.by_id for i in v
        ],
        "unreachable": unreachable,
        "counts": {
            "messages": len(tree.nodes),
            "paths": len(view.paths()),
            "ratings": len(tree.ratings),
            "judgments": len(tree.judgments),
            "images": sum(1 for _ in tree.images()),
        },
        "dimensions": list(dimensions),
        "short": _short,
    }


@functools.cache
def _environment() -> Any:
    """One Jinja2 environment, so each template is compiled once per process."""
    jinja2 = require("jinja2", "show")
    return jinja2.Environment(
        loader=jinja2.PackageLoader("intermt_schema.viewer", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_tree(
    tree: DialogueTree,
    *,
    images: ImageMode = "inline",
    images_root: str | None = None,
    page_dir: str = ".",
    dimensions: DimensionSet = INTERMT,
    index_href: str | None = None,
) -> str:
    """One tree as a self-contained HTML page (see the module docstring)."""
    html, _ = _page(tree, images, images_root, page_dir, dimensions, index_href)
    return html


def _page(
    tree: DialogueTree,
    images: ImageMode,
    images_root: str | None,
    page_dir: str,
    dimensions: DimensionSet,
    index_href: str | None,
) -> tuple[str, dict[str, int]]:
    """The page, and the counts its header shows (for an index)."""
    options = ValidationOptions(dimensions=dimensions, images_root=images_root)
    context = _context(tree, _Images(images, images_root, page_dir), dimensions, options)
    template = _environment().get_template("tree.html.j2")
    return str(template.render(**context, index_href=index_href)), context["counts"]


def render_index(entries: Sequence[dict[str, Any]], title: str) -> str:
    """An index page linking tree pages: ``entries`` hold ``id``, ``href`` and counts."""
    template = _environment().get_template("index.html.j2")
    return str(template.render(entries=entries, title=title))


def write_pages(
    trees: Iterable[DialogueTree],
    output: str,
    *,
    images: ImageMode = "inline",
    images_root: str | None = None,
    dimensions: DimensionSet = INTERMT,
    single: bool = False,
) -> list[str]:
    """Write one page for one tree (``single``), or an index at ``output`` and a page
    per tree in the folder beside it (``out.html`` -> ``out_trees/``). Returns the
    files written; every write is atomic."""
    check_choice("images", images, IMAGE_MODES)
    output = os.path.abspath(output)
    page_dir = os.path.dirname(output)
    written: list[str] = []
    if single:
        tree = next(iter(trees))
        html = render_tree(
            tree, images=images, images_root=images_root, page_dir=page_dir, dimensions=dimensions
        )
        _write(output, html)
        return [output]
    folder = os.path.splitext(output)[0] + "_trees"
    entries = []
    used: dict[str, int] = {}
    for tree in trees:
        name = page_name(tree.id)
        used[name] = used.get(name, 0) + 1
        if used[name] > 1:  # a tree id used twice: each tree keeps a page of its own
            name = name.removesuffix(".html") + f"-{used[name]}.html"
        target = os.path.join(folder, name)
        index_href = "../" + os.path.basename(output)
        html, counts = _page(tree, images, images_root, folder, dimensions, index_href)
        _write(target, html)
        written.append(target)
        entries.append(
            {
                "id": tree.id,
                "href": os.path.basename(folder) + "/" + name,
                "category": tree.meta.category if tree.meta else None,
                **counts,
            }
        )
    _write(output, render_index(entries, os.path.basename(output)))
    return [output, *written]


def _write(path: str, html: str) -> None:
    with atomic_output(path) as out:
        out.write(html.encode("utf-8"))
