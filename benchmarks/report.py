"""The Markdown report of one run (``benchmarks/results.md``, also spliced into
``docs/performance.md`` between its markers)."""

from __future__ import annotations

from pathlib import Path

BEGIN, END = "<!-- benchmark-results:begin -->", "<!-- benchmark-results:end -->"


def _fmt_time(seconds: float) -> str:
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _fmt_value(v) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return lines + [""]


def _targets(targets: list[dict]) -> list[str]:
    def measured(t: dict) -> str:
        unit = f" {t['unit']}" if t["unit"] and isinstance(t["value"], float) else ""
        return _fmt_value(t["value"]) + unit

    def limit(t: dict) -> str:
        return ("< " if t["strict"] else "") + _fmt_value(t["limit"])

    main = [t for t in targets if not t["earlier"]]
    earlier = [t for t in targets if t["earlier"]]
    lines = ["### Targets (issue 14)", ""]
    lines += _table(
        ["target", "measured", "limit", "met", "jax.jit, same ratio"],
        [[t["target"], measured(t), limit(t), "yes" if t["met"] else "**no**",
          "—" if t["jax_jit"] is None else f"{t['jax_jit']:.2f} ×"] for t in main],
    )
    if earlier:
        lines += ["### Checks kept from earlier rounds", ""]
        lines += _table(["check", "measured", "limit", "met"],
                        [[t["target"], measured(t), limit(t), "yes" if t["met"] else "**no**"] for t in earlier])
    return lines


def _notes(rows: list[dict]) -> list[str]:
    """What a replay variant said (warnings) or why it was not timed."""
    lines = []
    for row in rows:
        for impl, note in row.get("notes", {}).items():
            case = ", ".join(f"{k}={v}" for k, v in row["case"].items())
            lines.append(f"* {row['workload']} ({case}), {impl}: {note}")
    return (["### Notes", ""] + lines + [""]) if lines else []


def _header(results: dict) -> list[str]:
    env = results["environment"]
    blas = "; ".join(
        f"{b.get('internal_api')} {b.get('version')} ({b.get('num_threads')} threads"
        + (f", {b.get('architecture')}" if b.get("architecture") else "") + ")"
        for b in env["blas"]
    )
    libs = ", ".join(f"{k} {v}" for k, v in env["libraries"].items()) or "none"
    replay = "yes" if any(env.get("replay", {}).values()) else "no (no replay columns)"
    return [
        f"Measured {env['date']} on {env['machine']} ({env['cores']} cores), Python {env['python']}, "
        f"NumPy {env['numpy']}, dualrev {env['dualrev']}; BLAS: {blas}; "
        f"comparison libraries: {libs}"
        + (f"; skipped: {', '.join(f'{k} ({v})' for k, v in env['skipped'].items())}" if env["skipped"] else "")
        + f"; dualrev replay: {replay}. Mode: {'quick' if results['quick'] else 'full'} "
        f"(median of {results['repeats']} interleaved samples).",
        "",
    ]


def _workload_tables(by: dict[str, list[dict]]) -> list[str]:
    lines: list[str] = []
    if "mlp_grad" in by:
        lines += ["### mlp_grad — time / time(numpy f), 4-layer tanh MLP, batch 64", ""]
        names = [k for k in by["mlp_grad"][0]["times_s"] if k != "numpy f"]
        body = [[f"D={r['case']['D']}", _fmt_time(r["times_s"]["numpy f"])]
                + [f"{r['ratio_to_numpy_f'][k]:.2f}" if k in r["ratio_to_numpy_f"] else "—" for k in names]
                for r in by["mlp_grad"]]
        lines += _table(["case", "numpy f"] + names, body)
    if "op_overhead" in by:
        lines += ["### op_overhead — µs per op, 300 elementwise ops on a length-8 vector", ""]
        r = by["op_overhead"][0]
        lines += _table(["implementation", "µs/op", "× numpy f"],
                        [[k, f"{r['us_per_op'][k]:.2f}", f"{r['ratio_to_numpy_f'][k]:.2f}"] for k in r["us_per_op"]])
    if "dispatch" in by:
        lines += ["### dispatch — one `dualrev.numpy` call on a plain ndarray (length 8) vs bare NumPy", ""]
        r = by["dispatch"][0]
        lines += _table(["call", "numpy", "dualrev.numpy", "overhead"],
                        [[f"`{n}`", _fmt_time(r["times_s"][f"numpy {n}"]), _fmt_time(r["times_s"][f"dualrev {n}"]),
                          f"{ns:.0f} ns"] for n, ns in r["overhead_ns"].items()])
    if "jacobian_shapes" in by:
        rows = by["jacobian_shapes"]
        lines += ["### jacobian_shapes — time / time(closed form), J of tanh(W2 tanh(W1 x))", ""]
        names = [k for k in rows[0]["times_s"] if k != "closed form"]
        header = ["implementation"] + [f"n={r['case']['n']}, m={r['case']['m']}, hidden={r['case']['hidden']}"
                                       for r in rows]
        body = [["closed form"] + [_fmt_time(r["times_s"]["closed form"]) for r in rows]]
        body += [[k] + [f"{r['ratio_to_closed_form'][k]:.2f}" if k in r["ratio_to_closed_form"] else "—"
                        for r in rows] for k in names]
        body += [["auto picks"] + [str(r["auto_picks"]) for r in rows]]
        lines += _table(header, body)
    if "hvp" in by:
        lines += ["### hvp — Hessian-vector product of the MLP loss w.r.t. W1, D=256", ""]
        r = by["hvp"][0]
        lines += _table(["implementation", "time", "× numpy f", "× hand R-operator hvp"],
                        [[k, _fmt_time(t), f"{r['ratio_to_numpy_f'][k]:.2f}", f"{r['ratio_to_hand_hvp'][k]:.2f}"]
                         for k, t in r["times_s"].items()])
    if "tape_memory" in by:
        lines += ["### tape_memory — peak memory (tracemalloc), 2000 layers of tanh(x @ W), D=64", ""]
        names = list(by["tape_memory"][0]["peak_bytes"])
        body = []
        for r in by["tape_memory"]:
            shape = "×".join(map(str, r["case"]["x_shape"]))
            body.append([f"x: ({shape}), {r['case']['activation_bytes']} B/activation"]
                        + [f"{r['peak_bytes'][k] / 1e6:.2f} MB ({r['ratio_to_hand'][k]:.2f}×)"
                           if k in r["peak_bytes"] else "—" for k in names])
        lines += _table(["case"] + [f"{k} peak (× hand)" for k in names], body)
    return lines


def markdown(results: dict) -> str:
    rows = results["rows"]
    by: dict[str, list[dict]] = {}
    for row in rows:
        by.setdefault(row["workload"], []).append(row)
    lines = _header(results) + _targets(results["targets"]) + _workload_tables(by) + _notes(rows)
    return "\n".join(lines)


def splice(path: Path, table: str) -> None:
    """Replace the generated section of ``docs/performance.md`` (between markers)."""
    if not path.exists():
        return
    text = path.read_text()
    if BEGIN not in text or END not in text:
        return
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")
