"""dr.draw: the numbers of the lecture notes at the right nodes, every view
renders, big graphs are summarised, bad input gets a clear error."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

import dualrev as dr
import dualrev.numpy as dnp
from dualrev.draw import MAX_NODES

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from experiments import tutorial_figures  # noqa: E402

W, X = np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0])


def neuron(w, x):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    return 1.0 / (1.0 + dnp.exp(-dot))


def texts(svg: str) -> dict[str, str]:
    """The text of every SVG group whose id names a drawn number (``v12-adjoint`` …)."""
    found = {}
    for match in re.finditer(r'<g id="([ve][^"]*)">', svg):  # the first text after the group opens
        text = re.compile(r"<text[^>]*>([^<]*)</text>").search(svg, match.end())
        if text:
            found[match.group(1)] = text.group(1)
    return found


@pytest.fixture(scope="module")
def drawn():
    drawing = dr.draw(neuron, W, X, argnums=(0, 1))
    return drawing, texts(drawing.svg())


def by_op(drawing, op):
    return [v for v in drawing.vertices.values() if v.op == op]


def test_the_sigmoid_neuron_svg_has_the_seeds_numbers_at_the_right_nodes(drawn):
    drawing, text = drawn
    (out,) = by_op(drawing, "divide")
    assert text[f"v{out.id}-primal"] == "val 0.73" and text[f"v{out.id}-adjoint"] == "adj 1.00"
    one_plus_exp = by_op(drawing, "add")[-1]  # after 1/x
    assert text[f"v{one_plus_exp.id}-primal"] == "val 1.37" and text[f"v{one_plus_exp.id}-adjoint"] == "adj -0.53"
    (negated,) = by_op(drawing, "negative")  # after exp
    assert text[f"v{negated.id}-adjoint"] == "adj -0.20"
    (exp,) = by_op(drawing, "exp")
    assert text[f"v{exp.id}-primal"] == "val 0.37"
    for add in by_op(drawing, "add")[:2]:  # the weights' add gates
        assert text[f"v{add.id}-adjoint"] == "adj 0.20"
    w_id, x_id = drawing.model.inputs
    assert text[f"v{w_id}-adjoint"] == "adj (3,) [-0.20, -0.39, 0.20]"
    assert text[f"v{x_id}-adjoint"] == "adj (2,) [0.39, -0.59]"
    # the local partials on the edges: 1/x at 1.37 is -0.53, exp at -1 is 0.37
    assert text[f"e{one_plus_exp.id}-{out.id}-partial"] == "∂ -0.53"
    assert text[f"e{negated.id}-{exp.id}-partial"] == "∂ 0.37"


def test_the_drawn_values_are_jvps_and_vjps(drawn):
    drawing, _ = drawn
    model = drawing.model
    for s, g in zip(model.inputs, dr.grad(neuron, argnums=(0, 1))(W, X)):
        np.testing.assert_allclose(model.vertices[s].adjoint, g)
    _, tangent = dr.jvp(neuron, (W, X), (np.ones(3), np.ones(2)))
    np.testing.assert_allclose(model.vertices[model.outputs[0]].tangent, tangent)
    np.testing.assert_allclose(model.jvp_out[0], tangent)


def test_edge_costs_sum_to_the_modes_counts():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(4)
    Ws = [rng.standard_normal((4, 4)) for _ in range(2)]

    def net(W1, W2):
        return dnp.sum(dnp.tanh(dnp.tanh(x @ W1) @ W2))

    drawing = dr.draw(net, *Ws, argnums=(0, 1))
    totals = drawing.totals()
    _, cost = dr.jacobian(net, argnums=(0, 1), mode="explicit", order=drawing.model.explicit_fold,
                          return_cost=True)(*Ws)
    assert totals["explicit"] == cost.explicit.multiply_adds
    kinds = {e.kind for e in drawing.edges}
    assert {"diagonal", "matrix-free"} <= kinds


def test_scalar_defaults_and_given_directions():
    drawing = dr.draw(lambda x: dnp.sin(x) * x, 0.5)
    out = drawing.vertices[drawing.model.outputs[0]]
    assert np.isclose(out.tangent, np.cos(0.5) * 0.5 + np.sin(0.5))  # basis direction 1
    assert np.isclose(out.adjoint, 1.0)
    given = dr.draw(lambda x: dnp.sin(x) * x, 0.5, tangent=2.0, cotangent=3.0)
    inp = given.vertices[given.model.inputs[0]]
    assert np.isclose(given.vertices[given.model.outputs[0]].tangent, 2 * out.tangent)
    assert np.isclose(inp.adjoint, 3 * (np.cos(0.5) * 0.5 + np.sin(0.5)))
    assert "0.48" in dr.draw(lambda x: dnp.sin(x), 0.5).svg()
    assert "0.479" in dr.draw(lambda x: dnp.sin(x), 0.5, decimals=3).svg()


@pytest.mark.parametrize("order", ["forward", "reverse", "optimal"])
def test_elimination_strip_counts_are_the_explicit_modes(order):
    drawing = dr.draw(neuron, W, X, argnums=(0, 1), elimination=order)
    _, cost = dr.jacobian(neuron, argnums=(0, 1), mode="explicit", order=order, return_cost=True)(W, X)
    assert drawing.multiply_adds == cost.explicit.multiply_adds
    assert sum(step.cost for step in drawing.steps) == drawing.multiply_adds
    assert [v for s in drawing.steps for v in s.eliminated] == drawing.order
    if order == "optimal":  # rendering a strip takes a second or two: once is enough
        svg = drawing.svg()
        assert f"{drawing.multiply_adds} multiply-adds in all" in svg
        assert f"eliminate v{drawing.order[0]} ({drawing.vertices[drawing.order[0]].name})" in svg


def test_a_users_elimination_order():
    probe = dr.draw(neuron, W, X, argnums=(0, 1), elimination="forward")
    order = list(reversed(probe.order))
    mine = dr.draw(neuron, W, X, argnums=(0, 1), elimination=order)
    assert mine.order == order and [v for s in mine.steps for v in s.eliminated] == order


def tiny(x):
    return dnp.sin(x) * x


def test_saving_every_format(tmp_path):
    drawing = dr.draw(tiny, 0.5)
    for ext, magic in (("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")):
        path = drawing.save(tmp_path / f"neuron.{ext}")
        assert path.read_bytes().startswith(magic)
    assert drawing._repr_svg_().startswith("<?xml")
    strip = dr.draw(tiny, 0.5, elimination="reverse")
    assert strip.save(tmp_path / "steps.gif").read_bytes().startswith(b"GIF8")
    assert strip.save(tmp_path / "steps.png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match=r"\.svg, \.png or \.pdf"):
        drawing.save(tmp_path / "neuron.jpg")


def test_every_tutorial_picture_renders(tmp_path):
    saved = tutorial_figures.save_pictures(tmp_path)
    assert sorted(p.name for p in saved) == sorted(tutorial_figures.FIGURES)
    for path in saved:
        assert path.stat().st_size > 5_000, path
        committed = ROOT / "docs" / "tutorial" / path.name
        assert committed.exists(), f"{committed} is not committed: run make experiments"
        assert f"tutorial/{path.name}" in (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")


def chain(n_ops):
    def f(x):
        for _ in range(n_ops):
            x = dnp.sin(x)
        return dnp.sum(x)

    return f


def test_fifty_nodes_are_drawn_in_full():
    drawing = dr.draw(chain(48), np.ones(3))
    assert len(drawing.vertices) == 50 and len(drawing.layout.groups) == 50 and not drawing.layout.note


def test_a_large_graph_is_summarised():
    drawing = dr.draw(chain(200), np.ones(3))
    assert len(drawing.vertices) == 202 and len(drawing.layout.groups) <= MAX_NODES
    svg = drawing.svg()
    assert "sin ×200" in svg and "collapsed" in svg
    last = drawing.vertices[max(drawing.model.intermediates)]
    assert drawing.layout.groups[drawing.layout.group_of[last.id]].collapsed


def test_mixed_runs_are_collapsed_when_same_op_runs_are_not_enough():
    def f(x):
        for i in range(90):
            x = dnp.sin(x) if i % 2 else dnp.tanh(x)
        return dnp.sum(x)

    drawing = dr.draw(f, np.ones(2))
    assert "90 ops" in drawing.svg()


def test_a_graph_too_big_even_collapsed_is_refused_clearly():
    def wide(x):
        return dnp.sum(dnp.stack([dnp.sin(x[i]) * x[i] for i in range(40)]))

    with pytest.raises(ValueError, match=r"max_nodes=60.*draw a smaller piece"):
        dr.draw(wide, np.ones(40))
    with pytest.raises(ValueError, match="elimination view draws every vertex"):
        dr.draw(chain(80), np.ones(2), elimination="reverse")


def test_a_function_that_records_nothing():
    with pytest.raises(ValueError, match="recorded no differentiable operation"):
        dr.draw(lambda x: 2.0 * dr.concrete(x), 1.0)  # the value alone: no operation on the input
    with pytest.raises(ValueError, match="recorded no differentiable operation"):
        dr.draw(lambda x, y: dnp.sin(y), 1.0, 2.0)  # argnums=0: x is not used


def test_an_unknown_elimination_order():
    with pytest.raises(ValueError, match="unknown elimination order 'sideways'"):
        dr.draw(neuron, W, X, argnums=(0, 1), elimination="sideways")
    with pytest.raises(ValueError, match="is not an elimination order of this graph"):
        dr.draw(neuron, W, X, argnums=(0, 1), elimination=[1, 2, 3])


def test_other_bad_input():
    with pytest.raises(TypeError, match="expected a function"):
        dr.draw(3.0, 1.0)
    with pytest.raises(ValueError, match="argnums"):
        dr.draw(neuron, W, X, argnums=2)
    with pytest.raises(ValueError, match="tangent"):
        dr.draw(neuron, W, X, argnums=(0, 1), tangent=[np.ones(3)])
    with pytest.raises(ValueError, match="decimals"):
        dr.draw(neuron, W, X, decimals=-1)
