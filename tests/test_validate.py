from __future__ import annotations

import io
import os
import shlex
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import intermt_schema as im
from intermt_schema.cli import main
from intermt_schema.testing import CORRUPTIONS, deep_trees, trees

CASES = sorted(p for p in (Path(__file__).parent / "cases").iterdir() if p.is_dir())


@given(trees())
def test_generated_trees_validate_clean(tree: im.DialogueTree) -> None:
    report = im.validate(tree, im.ValidationOptions(strict=True))
    assert report.ok, report.render()
    assert not report.warnings


@pytest.mark.parametrize("rule", sorted(CORRUPTIONS))
@given(data=st.data())
def test_each_corruption_is_reported_with_its_rule_code(rule: str, data: st.DataObject) -> None:
    tree = data.draw(trees(min_nodes=3) if rule == "judgment.not_siblings" else trees())
    broken = CORRUPTIONS[rule](tree)
    assume(broken is not None)  # the tree has what the corruption needs
    report = im.validate(broken)
    assert rule in report.codes(), report.render()
    assert not report.ok


def test_every_rule_is_exercised_by_a_golden_case() -> None:
    golden = {case.name for case in CASES}
    untested = (
        set(im.RULES)
        - golden
        - {
            "record.too_large",
            "file.unreadable",
            "tree.too_large",
            "text.leftover_markup",
            "image.too_large",
            "image.not_posix",
            "media.too_large",
            "media.not_posix",
        }
    )
    assert not untested


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_report_text(case: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``validate input.jsonl [args.txt]``, or the command in ``command.txt`` (where
    ``{tmp}`` is a scratch folder), prints exactly ``expected.txt``."""
    monkeypatch.chdir(case)
    if (case / "command.txt").exists():
        command = (case / "command.txt").read_text().replace("{tmp}", str(tmp_path))
        argv = shlex.split(command)
    else:
        args = (case / "args.txt").read_text() if (case / "args.txt").exists() else ""
        argv = ["validate", "input.jsonl", *shlex.split(args)]
    out = io.StringIO()
    code = main(argv, out=out)
    expected_file = case / "expected.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        expected_file.write_text(out.getvalue())
    assert out.getvalue() == expected_file.read_text()
    severity = im.RULES[case.name][0]
    text = out.getvalue()
    assert (
        f"{severity} {case.name}" in text or f'"code":"{case.name}","severity":"{severity}"' in text
    )
    assert code == (1 if severity == "error" else 0)


def test_a_chain_100000_deep_validates_without_recursion() -> None:
    tree = deep_trees(100_000)
    assert im.validate(tree).ok
    data = im.encode_tree(tree)
    decoded, report = im.decode_and_validate(data)
    assert decoded is not None and report.ok


def test_depth_and_size_limits_are_reported() -> None:
    tree = deep_trees(50)
    report = im.validate(tree, im.ValidationOptions(max_depth=10, max_nodes=20))
    assert report.codes()["tree.too_large"] == 2


def test_strict_mode_turns_warnings_into_errors() -> None:
    tree = im.DialogueTree(id="t", nodes=[im.Message(id="q", role="user", content=[])])
    assert im.validate(tree).ok
    assert [i.severity for i in im.validate(tree)] == ["warning"]
    assert not im.validate(tree, im.ValidationOptions(strict=True)).ok


def test_role_order_can_be_relaxed() -> None:
    tree = im.DialogueTree(
        id="t",
        nodes=[
            im.Message(id="q", role="user", content=[im.TextPart("a")]),
            im.Message(id="r", parent="q", role="user", content=[im.TextPart("b")]),
        ],
    )
    assert "tree.role_order" in im.validate(tree).codes()
    assert im.validate(tree, im.ValidationOptions(role_order="any")).ok


def test_symlink_out_of_the_root_is_caught(tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"x")
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    (root / "images" / "link.png").symlink_to(outside)
    tree = im.DialogueTree(
        id="t",
        nodes=[
            im.Message(
                id="q",
                role="user",
                content=[im.ImagePart(image=im.ImageRef(path="images/link.png"))],
            )
        ],
    )
    options = im.ValidationOptions(check_images=True, images_root=str(root))
    assert [i.code for i in im.validate(tree, options)] == ["image.escapes_root"]


def test_decompression_bomb_is_refused_without_decoding() -> None:
    pil = pytest.importorskip("PIL.Image")
    buffer = io.BytesIO()
    pil.new("1", (20_000, 20_000)).save(buffer, format="PNG")
    tree = im.DialogueTree(
        id="t",
        nodes=[
            im.Message(
                id="q",
                role="user",
                content=[im.ImagePart(image=im.ImageRef(bytes=buffer.getvalue()))],
            )
        ],
    )
    options = im.ValidationOptions(check_images=True, image_limits=im.ImageLimits(max_pixels=10**6))
    assert [i.code for i in im.validate(tree, options)] == ["image.too_large"]


def test_links_out_of_the_root_are_caught_however_often_a_folder_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from intermt_schema.validation import _containment

    outside = tmp_path / "outside.png"
    outside.write_bytes(b"x")
    images = tmp_path / "data" / "images"
    images.mkdir(parents=True)
    names = [f"{k}.png" for k in range(_containment._Folder.LIST_AFTER + 10)]
    for name in names:
        (images / name).write_bytes(b"x")
    for name in ("early.png", "late.png"):
        (images / name).symlink_to(outside)
    clock = [1000.0]
    monkeypatch.setattr(_containment.time, "monotonic", lambda: clock[0])

    def escapes(paths: list[str]) -> list[int]:
        parts = [im.ImagePart(image=im.ImageRef(path=f"images/{p}")) for p in paths]
        tree = im.DialogueTree(id="t", nodes=[im.Message(id="q", role="user", content=parts)])
        report = im.validate(tree, im.ValidationOptions(images_root=str(tmp_path / "data")))
        return [int(i.path.split("/")[4]) for i in report if i.code == "image.escapes_root"]

    # the early link is found by lstat, the late one in the folder's listing
    assert escapes(["early.png", *names, "late.png"]) == [0, len(names) + 1]
    epoch = int(clock[0] / _containment.FRESH_SECONDS)
    listed = _containment._Folder.known(str(tmp_path / "data"), "images", epoch)
    assert listed.links == {"early.png", "late.png"}
    # a link made later is seen once what was learnt of the folder is no longer fresh
    (images / names[0]).unlink()
    (images / names[0]).symlink_to(outside)
    clock[0] += _containment.FRESH_SECONDS
    assert escapes([*names, names[0]]) == [0, len(names)]
    # a folder too big to list is asked name by name throughout (names[0] is a link now)
    monkeypatch.setattr(_containment._Folder, "LIST_AT_MOST", 10)
    clock[0] += _containment.FRESH_SECONDS
    assert escapes(["early.png", *names, "late.png"]) == [0, 1, len(names) + 1]
    epoch = int(clock[0] / _containment.FRESH_SECONDS)
    assert _containment._Folder.known(str(tmp_path / "data"), "images", epoch).links is None


def test_a_link_made_while_its_folder_is_known_is_never_read_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What is known of a folder stays fresh for a while; a file swapped for a link out
    of the root in that while is refused when opened, neither read nor embedded."""
    import io as bytes_io

    from PIL import Image

    from intermt_schema.validation import _containment
    from intermt_schema.validation._images import embed_media

    picture = bytes_io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(picture, format="PNG")
    outside = tmp_path / "secret.png"
    outside.write_bytes(picture.getvalue())
    images = tmp_path / "data" / "images"
    images.mkdir(parents=True)
    names = [f"{k}.png" for k in range(_containment._Folder.LIST_AFTER + 10)]
    for name in names:
        (images / name).write_bytes(picture.getvalue())
    monkeypatch.setattr(_containment.time, "monotonic", lambda: 1000.0)  # one epoch
    parts = [im.ImagePart(image=im.ImageRef(path=f"images/{n}")) for n in names]
    tree = im.DialogueTree(id="t", nodes=[im.Message(id="q", role="user", content=parts)])
    options = im.ValidationOptions(images_root=str(tmp_path / "data"), check_images=True)
    assert im.validate(tree, options).ok  # the folder is listed now: it holds no link
    epoch = int(1000.0 / _containment.FRESH_SECONDS)
    assert _containment._Folder.known(str(tmp_path / "data"), "images", epoch).links == set()
    (images / names[3]).unlink()
    (images / names[3]).symlink_to(outside)
    report = im.validate(tree, options)
    assert [(i.code, i.path) for i in report] == [("image.missing", "/nodes/0/content/3/image")]
    embedded = embed_media(tree, str(tmp_path / "data"))
    held = [p.image.bytes for p in embedded.nodes[0].content]  # type: ignore[union-attr]
    assert held[3] is None and all(b == picture.getvalue() for k, b in enumerate(held) if k != 3)


def test_paths_checked_together_pass_only_what_each_passes_alone(tmp_path: Path) -> None:
    """``all_inside`` answers for a tree's files at once; it may send them to be checked
    one by one, but never passes one that ``escapes_root`` or the source rule stops."""
    from hypothesis import settings

    from intermt_schema.validation._containment import all_inside, escapes_root

    from .conftest import count_cases

    seen = count_cases("test_paths_checked_together_pass_only_what_each_passes_alone")
    root = tmp_path / "data"
    (root / "images").mkdir(parents=True)
    (root / "images" / "out.png").symlink_to(tmp_path / "secret.png")
    (root / "images" / "in.png").symlink_to(root / "images" / "a.png")
    (root / "far").symlink_to(tmp_path)
    names = ["a.png", "out.png", "in.png", "..", "far", "images", "x\ny", "/etc", "C:", "", "b\n"]
    paths = st.lists(st.sampled_from(names), min_size=1, max_size=3).map("/".join)
    refs = st.one_of(
        paths.map(lambda p: im.ImageRef(path=p)),
        st.just(im.ImageRef(uri="https://x/a.png")),
        st.just(im.ImageRef(bytes=b"png")),
        st.just(im.ImageRef()),
    )

    @settings(derandomize=True, max_examples=500)
    @given(st.lists(refs, max_size=6))
    def check(files: list[im.ImageRef]) -> None:
        fine = [
            (f.path or f.bytes is not None or f.uri)
            and not (f.path and escapes_root(str(root), f.path))
            for f in files
        ]
        together = all_inside(str(root), files)
        assert not together or all(fine)
        seen["all pass"] += together
        seen["one stopped"] += not all(fine)
        seen["a link inside, sent one by one"] += all(fine) and not together
        seen["a path holding a newline"] += together and any("\n" in (f.path or "") for f in files)

    check()
    assert min(seen.values()) >= 10, seen
