"""Every ```python block in README.md and docs/*.md runs, so examples cannot rot.

Blocks of one file run in order in one namespace (a later block may use names
defined by an earlier one), with the working directory at the repository root.
"""

import pathlib
import re

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = pathlib.Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(path):
    return BLOCK.findall(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", [p for p in FILES if p.exists()], ids=lambda p: p.name)
def test_markdown_examples_run(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    namespace = {"__name__": f"doc_{path.stem}"}
    for i, block in enumerate(python_blocks(path)):
        code = compile(block, f"{path.name}[block {i}]", "exec")
        exec(code, namespace)  # noqa: S102 - running our own documentation


def test_readme_has_examples():
    assert len(python_blocks(ROOT / "README.md")) >= 2


def test_every_public_name_has_an_api_entry():
    import dualrev as dr
    import dualrev.numpy as dnp
    import dualrev.numpy.linalg as dnp_linalg

    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    missing = [name for name in dr.__all__ if f"### `{name}`" not in text]
    missing += [name for name in dnp.DIFFERENTIABLE if f"`{name}`" not in text]
    missing += [f"linalg.{name}" for name in dnp_linalg.DIFFERENTIABLE if f"`{name}`" not in text]
    assert not missing, f"docs/api.md has no entry for {missing}"


def test_docs_are_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"docs/{page.name}" in readme, f"README.md does not link docs/{page.name}"
