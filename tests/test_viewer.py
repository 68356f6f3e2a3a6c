"""``intermt show``: escaping, offline images, deep trees, and the page in a real
browser (headless Chromium driven by Playwright)."""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import pytest

import intermt_schema as im
from intermt_schema.cli import main
from intermt_schema.testing import deep_trees
from intermt_schema.viewer import render_tree, write_pages

from .conftest import EXAMPLES, FIXTURES

pytest.importorskip("jinja2")

EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
REPO = Path(__file__).resolve().parent.parent
SCREENSHOT = REPO / "docs" / "images" / "viewer.png"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def hostile_tree() -> im.DialogueTree:
    """Dataset text with markup in every field a page shows."""
    return im.DialogueTree(
        id="evil" + EVIL,
        meta=im.TreeMeta(category=EVIL, task="t", source="s"),
        nodes=[
            im.Message(
                id="q" + EVIL,
                role="user",
                content=[
                    im.TextPart(EVIL),
                    im.ImagePart(image=im.ImageRef(path="../" + EVIL + ".png")),
                    im.ImagePart(image=im.ImageRef(uri="https://example.org/x.png")),
                ],
            ),
            im.Message(
                id="a1",
                parent="q" + EVIL,
                role="assistant",
                content=[im.TextPart("first " + EVIL)],
                generator=im.Generator(model=EVIL),
            ),
            im.Message(
                id="a2", parent="q" + EVIL, role="assistant", content=[im.TextPart("x" * 5000)]
            ),
        ],
        ratings=[
            im.Rating(
                target="a1",
                scope="local",
                dimension="text_quality",
                score=2,
                annotator=EVIL,
                rationale=EVIL,
            ),
            im.Rating(target="a1", scope="local", dimension=EVIL, score=1),
        ],
        judgments=[
            im.Judgment(
                a="a1", b="a2", scope="local", outcomes={EVIL: "a"}, overall="a", rationale=EVIL
            )
        ],
    )


def test_dataset_text_is_escaped_everywhere() -> None:
    html = render_tree(hostile_tree())
    assert html.count("<script") == 1  # the page's own script, nothing from the data
    assert "onerror=" not in html.replace("onerror=&#34;", "")
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html


def test_images_inline_or_linked_and_never_fetched(tmp_path: Path) -> None:
    tree = next(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    images = sum(1 for n in tree.nodes for p in n.content if isinstance(p, im.ImagePart))
    inline = render_tree(tree, images_root=str(EXAMPLES))
    assert len(re.findall(r'<img src="data:image/png;base64,', inline)) == images
    page = tmp_path / "pages" / "t.html"
    write_pages([tree], str(page), images="link", images_root=str(EXAMPLES), single=True)
    sources = re.findall(r'<img src="([^"]+)"', page.read_text())
    assert len(sources) == images
    assert all((page.parent / s).is_file() for s in sources)
    remote = render_tree(hostile_tree())
    assert "https://example.org/x.png" in remote and 'src="https://' not in remote
    assert "leaves the dataset root" in remote or "not shown" in remote


def test_a_chain_10000_deep_renders_without_recursion_and_opens_collapsed() -> None:
    html = render_tree(deep_trees(10_000))
    assert html.count('<details class="node') == 10_000
    assert len(re.findall(r'<details class="node[^>]*" open>', html)) == 2  # two levels


def test_show_writes_an_index_and_a_page_per_tree(tmp_path: Path) -> None:
    out = io.StringIO()
    index = tmp_path / "site" / "index.html"
    assert main(["show", str(EXAMPLES), "-o", str(index)], out=out) == 0
    pages = sorted((tmp_path / "site" / "index_trees").iterdir())
    assert len(pages) == 6
    links = re.findall(r'<a href="([^"]+)"', index.read_text())
    assert sorted(index.parent / link for link in links) == pages
    assert "wrote" in out.getvalue() and "(6 tree pages)" in out.getvalue()
    assert main(["show", str(EXAMPLES), "--tree", "missing", "-o", str(tmp_path / "x.html")]) == 2
    assert not (tmp_path / "x.html").exists()


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    playwright = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium')")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def test_the_example_page_in_chromium(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tree = next(im.read_jsonl(str(EXAMPLES / "trees.jsonl")))
    page_file = tmp_path / "example.html"
    assert main(["show", str(EXAMPLES), "--tree", tree.id, "-o", str(page_file)]) == 0
    page = browser.new_page(viewport={"width": 1100, "height": 1300})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(page_file.as_uri())

    # every message, every image (decoded), every rated cell with its score
    assert page.locator("details.node").count() == len(tree.nodes)
    images = sum(1 for n in tree.nodes for p in n.content if isinstance(p, im.ImagePart))
    assert page.locator("img").count() == images
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    rating = next(r for r in tree.ratings if r.scope == "local")
    node = page.locator(f'details.node[data-node-id="{rating.target}"]')
    cell = node.locator(f'.cell[data-dimension="{rating.dimension}"]').first
    shown = float(cell.get_attribute("data-score"))
    scores = [
        r.score
        for r in tree.ratings
        if (r.target, r.dimension, r.scope) == (rating.target, rating.dimension, "local")
    ]
    assert shown == pytest.approx(sum(scores) / len(scores))
    assert cell.is_visible()
    assert all(url.startswith(("file:", "data:")) for url in requests)  # offline

    # collapsing a branch hides what is below it
    root = page.locator("details.node").first
    child = page.locator(f'details.node[data-node-id="{tree.nodes[1].id}"]')
    assert child.is_visible()
    root.locator(":scope > summary").click()
    assert not child.is_visible()
    root.locator(":scope > summary").click()
    assert child.is_visible()
    page.click("#collapse-all")
    assert not child.is_visible()
    page.click("#expand-all")

    # rationales open on click
    node.locator(".rationales > summary").first.click()
    assert node.locator(".rationales li").first.is_visible()

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOT") else tmp_path / "viewer.png"
    page.screenshot(path=str(target))
    assert target.stat().st_size > 10_000


def test_markup_in_the_data_shows_as_text_in_chromium(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page_file = tmp_path / "evil.html"
    write_pages([hostile_tree()], str(page_file), single=True)
    page = browser.new_page()
    page.goto(page_file.as_uri())
    assert page.evaluate("window.__pwned") is None
    first = page.locator("details.node .text").first
    assert first.inner_text() == EVIL
    long_text = page.locator(".text.folded")
    assert long_text.count() == 1
    height = long_text.evaluate("e => e.clientHeight")
    page.click(".fold-toggle")
    assert page.locator(".text.folded").count() == 0
    assert (
        page.locator('details.node[data-node-id="a2"] .text').evaluate("e => e.clientHeight")
        > height
    )


def test_show_pages_for_the_intermt_bench_sample(tmp_path: Path) -> None:
    from .conftest import fixture_path

    sample = fixture_path("intermt_bench", "crucial_step_sample.json")
    out = io.StringIO()
    index = tmp_path / "bench.html"
    main(["show", str(sample), "--from", "intermt-bench", "-o", str(index)], out=out)
    assert "40 records read: 40 accepted, 0 rejected" in out.getvalue()
    pages = sorted((tmp_path / "bench_trees").iterdir())
    assert len(pages) == 12  # the sample's 12 trees
    html = pages[0].read_text()
    assert "text.leftover_markup" in html or "not found under the images root" in html


def test_video_audio_reasoning_and_tool_calls_are_shown(tmp_path: Path) -> None:
    """Videos and audio clips play from data URIs with the type their header names;
    reasoning folds apart from the answer; tool calls show their name and arguments,
    escaped."""
    clips = FIXTURES / "llamafactory"
    for name, tag in (("mllm_video_demo.json", "video"), ("mllm_audio_demo.json", "audio")):
        result = im.get_format("sharegpt").load(str(clips / name))
        pages = [render_tree(t, images_root=str(clips)) for t in result.trees]
        found = rf'<{tag} controls src="data:([a-z0-9/.+-]+);'
        sources = [s for page in pages for s in re.findall(found, page)]
        assert len(sources) == 3 and all(s.startswith(f"{tag}/") for s in sources)
    assert "video/x-msvideo" in [
        s for t in im.get_format("sharegpt").load(str(clips / "mllm_video_demo.json")).trees
        for s in re.findall(r'src="data:([a-z0-9/.+-]+);', render_tree(t, images_root=str(clips)))
    ]  # fmt: skip
    call = im.ToolCallPart(name="look", arguments={"q": EVIL}, call_id="c1")
    tree = im.DialogueTree(id="t", nodes=[
        im.Message(id="q", role="user", content=[im.TextPart("?")]),
        im.Message(id="a", parent="q", role="assistant", content=[im.ReasoningPart("hmm"), call]),
        im.Message(id="r", parent="a", role="tool", tool_call_id="c1", content=[im.TextPart("ok")]),
    ])  # fmt: skip
    html = render_tree(tree)
    assert '<details class="reasoning">' in html and "tool call c1" in html
    assert html.count("<script") == 1 and "look({" in html
