"""The targets of issue 14 (item 5), read off one run's rows: every one is a
ratio of two figures measured in the same run (single-threaded BLAS), so a
faster or slower machine moves both sides.

Each target carries, where there is one, the same ratio for ``jax.jit``
(``jax_jit``) to show beside it. Replay targets appear once dualrev has
``replay=True`` (:mod:`.workloads.replay`). The checks kept from earlier
rounds (auto's choice, the forward mode's flat memory, the dispatch cost on a
plain array) have ``"earlier": True`` and a table of their own.
"""

from __future__ import annotations

from typing import Any


def _target(name: str, value: Any, limit: Any, unit: str = "×", jax_jit: float | None = None,
            strict: bool = False, earlier: bool = False) -> dict:
    if isinstance(value, (int, float)):
        met = bool(value < limit) if strict else bool(value <= limit)
    else:
        met = value == limit
    return {"target": name, "value": value, "limit": limit, "unit": unit, "met": met, "strict": strict,
            "jax_jit": jax_jit, "earlier": earlier}


def _ratio(times: dict, a: str, b: str) -> float | None:
    return times[a] / times[b] if a in times and b in times else None


def _not_timed(name: str, limit: float, row: dict, impl: str) -> list[dict]:
    """A replay variant that exists but was not timed (it raised or was wrong) misses its target."""
    if impl not in row.get("notes", {}) or impl in row["times_s"]:
        return []
    return [{"target": name, "value": "not timed (see notes)", "limit": limit, "unit": "×", "met": False,
             "strict": False, "jax_jit": None, "earlier": False}]


def _op_overhead(row: dict) -> list[dict]:
    t = row["times_s"]
    out = [
        _target("op_overhead: reverse grad / hand grad", t["dualrev grad"] / t["hand grad"], 2.0,
                jax_jit=_ratio(t, "jax jit grad", "hand grad")),
        _target("op_overhead: forward jvp / hand jvp", t["dualrev jvp"] / t["hand jvp"], 2.0,
                jax_jit=_ratio(t, "jax jit jvp", "hand jvp")),
    ]
    for impl, hand, task in (("dualrev grad (replay)", "hand grad", "reverse grad"),
                             ("dualrev jvp (replay)", "hand jvp", "forward jvp")):
        what = f"op_overhead: {task} with replay / {hand}"
        if impl in t:
            out.append(_target(what, t[impl] / t[hand], 1.2, jax_jit=_ratio(t, f"jax jit {impl.split()[1]}", hand)))
        out += _not_timed(what, 1.2, row, impl)
    out.append(_target("op_overhead: dualrev.numpy f / numpy f", t["dualrev.numpy f"] / t["numpy f"], 1.15,
                       jax_jit=_ratio(t, "jax jit f", "numpy f")))
    return out


def _mlp(row: dict) -> list[dict]:
    t, D = row["times_s"], row["case"]["D"]
    if D == 16:
        out = [_target("mlp_grad D=16: grad / numpy f", t["dualrev grad"] / t["numpy f"], 5.0,
                       jax_jit=_ratio(t, "jax jit grad", "numpy f"))]
        what = "mlp_grad D=16: grad with replay / numpy f"
        if "dualrev grad (replay)" in t:
            out.append(_target(what, t["dualrev grad (replay)"] / t["numpy f"], 3.0,
                               jax_jit=_ratio(t, "jax jit grad", "numpy f")))
        out += _not_timed(what, 3.0, row, "dualrev grad (replay)")
        return out
    # (grad / numpy f) / (hand grad / numpy f) = grad / hand grad
    what = f"mlp_grad D={D}: (grad / numpy f) / (hand grad / numpy f)"
    return [_target(what, t["dualrev grad"] / t["hand grad"], 1.05, jax_jit=_ratio(t, "jax jit grad", "hand grad"))]


def _jacobian(row: dict) -> list[dict]:
    t, n, m, hidden = row["times_s"], row["case"]["n"], row["case"]["m"], row["case"]["hidden"]
    closed = t["closed form"]
    jax_fwd, jax_rev = _ratio(t, "jax jit jacfwd", "closed form"), _ratio(t, "jax jit jacrev", "closed form")
    out = []
    well = row["well_shaped_mode"]
    if hidden > 4 and well:
        jax_same = jax_fwd if well == "forward" else jax_rev
        out.append(_target(f"jacobian n={n} m={m}: {well} / closed form", t[f"dualrev {well}"] / closed, 1.5,
                           jax_jit=jax_same))
        out.append(_target(f"jacobian n={n} m={m}: auto picks {well}", row["auto_picks"], well, unit="",
                           earlier=True))
    elif hidden > 4:
        modes = [k for k in ("forward", "reverse", "auto", "explicit") if f"dualrev {k}" in t]
        best = min(modes, key=lambda k: t[f"dualrev {k}"])
        jax_best = min((r for r in (jax_fwd, jax_rev) if r is not None), default=None)
        out.append(_target(f"jacobian n={n} m={m}: best mode ({best}) / closed form", t[f"dualrev {best}"] / closed,
                           1.6, jax_jit=jax_best))
    if hidden > 4:
        what = f"jacobian n={n} m={m}: explicit / better of forward, reverse"
        out.append(_target(what, row["explicit_over_best_fold"], 1.2))
    else:
        what = f"jacobian n={n} m={m} hidden={hidden} (waist): explicit / better of forward, reverse"
        out.append(_target(what, row["explicit_over_best_fold"], 1.0, strict=True))
    return out


def _hvp(row: dict) -> list[dict]:
    t = row["times_s"]
    return [_target("hvp D=256: dualrev hvp / hand R-operator hvp", t["dualrev hvp"] / t["hand R-operator hvp"], 1.15,
                    jax_jit=_ratio(t, "jax jit hvp", "hand R-operator hvp"))]


def _tape(row: dict) -> list[dict]:
    shape = "×".join(map(str, row["case"]["x_shape"]))
    per_layer = row["bytes_per_layer"]
    limit = 1.6 if len(row["case"]["x_shape"]) == 1 else 1.05
    out = [_target(f"tape bytes per layer x=({shape}): reverse / hand-written",
                   per_layer["dualrev grad"] / per_layer["hand grad"], limit)]
    peaks, depth, shallow = row["peak_bytes"], row["case"]["depth"], row["case"]["depth"] // 4
    growth = peaks["dualrev jvp"] / max(peaks[f"dualrev jvp (depth {shallow})"], 1)
    out.append(_target(f"tape_memory x=({shape}): forward peak, depth {depth} / depth {shallow}", growth, 1.5,
                       earlier=True))
    return out


def _dispatch(row: dict) -> list[dict]:
    return [_target(f"dispatch overhead of {name} on an ndarray", ns / 1000, 1.0, unit="µs", earlier=True)
            for name, ns in row["overhead_ns"].items()]


CHECKS = {
    "op_overhead": _op_overhead,
    "dispatch": _dispatch,
    "mlp_grad": _mlp,
    "jacobian_shapes": _jacobian,
    "hvp": _hvp,
    "tape_memory": _tape,
}


def check_targets(rows: list[dict]) -> list[dict]:
    """Every target the rows allow (a workload not run gives none)."""
    out: list[dict] = []
    for row in rows:
        check = CHECKS.get(row["workload"])
        if check is not None:
            out += check(row)
    return out
