"""docs/api-surface.md is generated from the registry (``dualrev._surface``)
and must not drift: regenerated, it equals the committed page."""

import numpy as np
import pytest
import scipy

import dualrev.numpy as dnp
from dualrev import _surface
from dualrev.scipy import integrate, linalg, signal, special, stats

SURFACE = _surface.surface()
PAGE = _surface.PAGE.read_text(encoding="utf-8")


def _versions_match() -> bool:
    return _surface.VERSIONS in PAGE


def test_the_committed_page_is_the_generated_one():
    if not _versions_match():
        pytest.skip(f"docs/api-surface.md was generated with other library versions than NumPy {np.__version__} "
                    f"and SciPy {scipy.__version__}; its pass-through lists follow the versions")  # fmt: skip
    assert _surface.surface_markdown(SURFACE) == PAGE, (
        f"docs/api-surface.md is out of date with the registry: regenerate it with `{_surface.REGENERATE}` "
        "(from the repository root) and commit it"
    )


def test_api_md_links_the_surface_page():
    api = (_surface.PAGE.parent / "api.md").read_text(encoding="utf-8")
    assert "(api-surface.md)" in api


def test_every_differentiable_list_is_on_the_page():
    listed = {
        "dualrev.numpy": dnp.DIFFERENTIABLE,
        "dualrev.numpy.linalg": dnp.linalg.DIFFERENTIABLE,
        "dualrev.scipy.special": special.DIFFERENTIABLE,
        "dualrev.scipy.stats": [f"{d}.{m}" for d, methods in stats.DIFFERENTIABLE.items() for m in methods],
        "dualrev.scipy.linalg": linalg.DIFFERENTIABLE,
        "dualrev.scipy.signal": signal.DIFFERENTIABLE,
        "dualrev.scipy.integrate": integrate.DIFFERENTIABLE,
    }
    assert set(SURFACE) == set(listed)
    for module, names in listed.items():
        assert set(SURFACE[module][0]) == set(names), module


def test_no_probe_finds_a_wrong_derivative_or_no_input():
    bad = [
        f"{module}.{name}: {param} {verdict} {detail}"
        for module, tables in SURFACE.items()
        for table in tables
        for name, rows in table.items()
        for param, verdict, detail in rows
        if verdict in ("WRONG", "unprobed", "no rule")
    ]
    assert not bad, "\n".join(bad)


# DIFFERENTIABLE names with no differentiable argument: angle and imag are
# piecewise constant on real input (issue 13).
NOT_DIFFERENTIABLE = {"dualrev.numpy": {"angle", "imag"}}


def test_internal_helpers_stay_out_of_the_namespace():
    assert not hasattr(dnp, "normalize_index")  # getitem's index helper


def test_every_listed_name_has_a_differentiable_argument():
    for module, (own, _) in SURFACE.items():
        flat = {name for name, rows in own.items() if not _surface._differentiable(rows)}
        assert flat == NOT_DIFFERENTIABLE.get(module, set()), module


def test_known_verdicts():
    def verdicts(module, name):
        return {param: verdict for param, verdict, _ in SURFACE[module][0][name]}

    assert verdicts("dualrev.numpy", "sin") == {"x": "differentiable"}
    assert verdicts("dualrev.numpy", "take")["indices"] == "static"
    assert verdicts("dualrev.numpy", "where")["condition"] == "value only"
    assert verdicts("dualrev.numpy", "cov")["aweights"] == "differentiable"
    assert verdicts("dualrev.scipy.special", "jv") == {"v": "raises", "x": "differentiable"}
    assert verdicts("dualrev.scipy.stats", "poisson.pmf")["mu"] == "differentiable"
    assert verdicts("dualrev.scipy.integrate", "odeint")["t"] == "differentiable"


def test_counts():
    counts = _surface.counts(SURFACE)
    assert counts["dualrev.numpy"][0] >= 170 and counts["dualrev.numpy.linalg"][0] >= 24
    assert counts["dualrev.scipy.special"][0] >= 70 and counts["dualrev.scipy.stats"][0] >= 50
