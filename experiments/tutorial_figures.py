"""tutorial_figures — the pictures of docs/tutorial.md, and how long drawing takes.

Runs the tutorial's code blocks (in order, in one namespace, as the test
suite does) and saves every drawing they make under the file name
:data:`FIGURES` gives it: into ``docs/tutorial/`` (the committed pictures)
for ``--quick`` and ``--full``, into ``<out>/tutorial/`` for ``--smoke`` (the
tests; the SVGs only). Also times ``dr.draw`` + ``.svg()`` on the sigmoid neuron of seed 004
and on a 50-node chain, and writes the neuron's picture as this experiment's
PNG.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np

import dualrev as dr
import dualrev.numpy as dnp

from . import common

NAME = "tutorial_figures"
DESCRIPTION = "the pictures of docs/tutorial.md (dr.draw), and the time a drawing takes"
ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
PICTURES = ROOT / "docs" / "tutorial"
#: file name → the variable of the tutorial's code that holds the drawing.
FIGURES = {
    "neuron.svg": "neuron_drawing",
    "neuron_sigmoid_gate.svg": "gate_drawing",
    "linear_layer.svg": "linear_drawing",
    "diamond.svg": "diamond_drawing",
    "diamond_steps.png": "diamond_steps",
    "relu_net.svg": "relu_drawing",
    "relu_net_steps.png": "relu_steps",
    "relu_net_steps.gif": "relu_steps",
}
SIZES = {"smoke": {"repeats": 1}, "quick": {"repeats": 3}, "full": {"repeats": 5}}
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def tutorial_namespace() -> dict:
    """The names the tutorial's code blocks define, after running them all."""
    namespace: dict = {"__name__": "doc_tutorial"}
    for i, block in enumerate(BLOCK.findall(TUTORIAL.read_text(encoding="utf-8"))):
        exec(compile(block, f"tutorial.md[block {i}]", "exec"), namespace)  # noqa: S102 - our own docs
    return namespace


def save_pictures(folder: Path, only: tuple[str, ...] = ("svg", "png", "gif")) -> list[Path]:
    """Save the tutorial's pictures (those whose extension is in ``only``) into ``folder``."""
    namespace = tutorial_namespace()
    wanted = [(name, variable) for name, variable in FIGURES.items() if name.rsplit(".", 1)[-1] in only]
    return [namespace[variable].save(folder / name) for name, variable in wanted]


def chain_of(n_ops: int):
    """A function of one vector whose graph has ``n_ops + 1`` value nodes, alternating sin and tanh."""

    def chain(x):
        for i in range(n_ops - 1):
            x = dnp.sin(x) if i % 2 else dnp.tanh(x)
        return dnp.sum(x)

    return chain


def neuron(w, x):
    return 1.0 / (1.0 + dnp.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))


def _seconds(make, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        make().svg()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def run(ctx: common.Context):
    # --smoke (the tests; tests/test_draw.py renders every picture) writes the SVGs only
    folder = ctx.out / "tutorial" if ctx.preset == "smoke" else PICTURES
    saved = save_pictures(folder, ("svg",) if ctx.preset == "smoke" else ("svg", "png", "gif"))
    ctx.progress(f"{len(saved)} pictures in {folder}")
    w, x = np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0])
    chain = chain_of(49)
    fifty = dr.draw(chain, np.ones(4))
    timings = {
        "sigmoid_neuron_seconds": _seconds(lambda: dr.draw(neuron, w, x, argnums=(0, 1)), ctx.sizes["repeats"]),
        "fifty_node_chain_seconds": _seconds(lambda: dr.draw(chain, np.ones(4)), ctx.sizes["repeats"]),
        "fifty_node_chain_nodes": len(fifty.vertices),
    }
    ctx.progress(f"dr.draw + .svg(): {timings}")
    data = {"pictures": [str(p.relative_to(folder.parent)) for p in saved], "draw_timings": timings}
    return data, dr.draw(neuron, w, x, argnums=(0, 1)).figure()


main = common.entry_point(NAME, DESCRIPTION, SIZES, run)

if __name__ == "__main__":
    main()
