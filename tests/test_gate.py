"""The gate for contributed data: nothing outside the dataset is read or written."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

import intermt_schema as im
from intermt_schema.cli import main

from .conftest import EXAMPLES


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


@pytest.fixture
def contribution(tmp_path: Path) -> Path:
    """The examples, with one image replaced by a link to a secret outside the folder."""
    folder = tmp_path / "contrib"
    shutil.copytree(EXAMPLES, folder)
    (tmp_path / "secret.txt").write_text("do not leak")
    first = next(im.read_jsonl(str(folder / "trees.jsonl")))
    path = next(p.image.path for n in first.nodes for p in n.content if type(p) is im.ImagePart)
    assert path is not None
    (folder / path).unlink()
    (folder / path).symlink_to(tmp_path / "secret.txt")
    return folder


def test_validate_refuses_an_image_that_links_outside_without_check_images(
    contribution: Path,
) -> None:
    code, text = run("validate", str(contribution))
    assert code == 1
    assert "image.escapes_root" in text and "links outside the dataset root" in text
    assert "1 rejected" in text


@pytest.mark.parametrize("mode", ["copy", "link"])
def test_training_exports_never_copy_or_link_what_lies_outside(
    contribution: Path, tmp_path: Path, mode: str
) -> None:
    trees = list(im.read_jsonl(str(contribution / "trees.jsonl")))
    out = tmp_path / "out" / "sft.json"
    loss = im.get_format("sharegpt").export(
        trees, str(out), source_root=str(contribution), images=mode
    )
    assert loss.dropped["images outside the dataset root, not copied"] >= 1
    for file in (tmp_path / "out").rglob("*"):
        if file.is_file():
            assert b"do not leak" not in file.read_bytes()
        if file.is_symlink():
            assert (tmp_path / "secret.txt").resolve() != file.resolve()


def test_an_imported_path_with_dotdot_is_neither_read_nor_written_outside(
    tmp_path: Path,
) -> None:
    (tmp_path / "secret.png").write_bytes(b"secret")
    data = tmp_path / "in" / "sub"
    data.mkdir(parents=True)
    record = {"messages": [{"role": "user", "content": "<image>What is it?"},
                           {"role": "assistant", "content": "A secret."}],
              "images": ["../../secret.png"]}  # fmt: skip
    (data / "l.json").write_text(json.dumps([record]))
    out = tmp_path / "out" / "sub" / "l.json"
    code, text = run("convert", str(data / "l.json"), "--from", "sharegpt", "--to", "sharegpt",
                     "--images", "copy", "-o", str(out))  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out", "secret.png"]
    assert not any(p.read_bytes() == b"secret" for p in (tmp_path / "out").rglob("*.png"))
    assert code == 1  # validated like any canonical tree before the export sees it
    assert "error image.escapes_root" in text and "1 records read: 0 accepted, 1 rejected" in text


def test_a_nul_byte_in_an_image_path_is_refused() -> None:
    image = im.ImagePart(image=im.ImageRef(path="images/a\x00.png"))
    message = im.Message(id="q", role="user", content=[image, im.TextPart("?")])
    tree = im.DialogueTree(id="t", nodes=[message])
    assert "image.not_posix" in im.validate(tree).codes()
