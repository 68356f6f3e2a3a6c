"""mkdocs hooks: pages that quote the repository instead of copying it.

- ``<!-- include PATH -->``: a file of the repository (links rewritten to the site).
- ``<!-- include-json PATH -->``: a JSON file, as a code block.
- ``<!-- readme-setup -->``: the README's set-up section, the two commands.
- ``<!-- cli-reference -->``: ``--help`` of every ``intermt`` command.
- ``<!-- loss-report FORMAT [key=value ...] -->``: that export's loss report on the
  bundled examples, computed at build time.
"""

from __future__ import annotations

import io
import re
import tempfile
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LINKS = {
    "(intermt-tree.v1.schema.json)": "(json-schema.md)",
    "(../docs/formats/index.md)": "(../formats/index.md)",
    "(docs/": "(",
    "(spec/SPEC.md)": "(reference/spec.md)",
    "(spec/intermt-tree.v1.schema.json)": "(reference/json-schema.md)",
}


def _include(path: str) -> str:
    text = (ROOT / path).read_text(encoding="utf-8")
    for old, new in LINKS.items():
        text = text.replace(old, new)
    return text


def _readme_setup() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Set up and run")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def _cli_reference() -> str:
    from intermt_schema.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    parts = ["```text", parser.format_help().rstrip(), "```"]
    for name, command in sub.choices.items():  # type: ignore[attr-defined]
        parts += [f"## `intermt {name}`", "", "```text", command.format_help().rstrip(), "```", ""]
    return "\n".join(parts)


def _loss_report(spec: str) -> str:
    import intermt_schema as im
    from intermt_schema.formats import get_format

    name, *pairs = spec.split()
    options: dict[str, Any] = dict(p.split("=", 1) for p in pairs)
    data = ROOT / "examples" / "data"
    fmt = get_format(name)
    if "source_root" in fmt.export_options:
        options["source_root"] = str(data)
    with tempfile.TemporaryDirectory() as tmp:
        trees = im.read_jsonl(str(data / "trees.jsonl"))
        loss = fmt.export(trees, f"{tmp}/out{fmt.suffix}", **options)
    return "```text\n" + loss.render() + "\n```"


def on_page_markdown(markdown: str, **_: Any) -> str:
    markdown = re.sub(r"<!-- include (\S+) -->", lambda m: _include(m.group(1)), markdown)
    markdown = re.sub(
        r"<!-- include-json (\S+) -->",
        lambda m: "```json\n" + (ROOT / m.group(1)).read_text(encoding="utf-8") + "\n```",
        markdown,
    )
    markdown = markdown.replace("<!-- readme-setup -->", _readme_setup())
    if "<!-- cli-reference -->" in markdown:
        with redirect_stdout(io.StringIO()):
            markdown = markdown.replace("<!-- cli-reference -->", _cli_reference())
    return re.sub(r"<!-- loss-report ([^>]+?) -->", lambda m: _loss_report(m.group(1)), markdown)
