"""The cost ledger: what one ``jacobian(..., return_cost=True)`` call ran, in any mode.

:class:`Cost` is the one record every mode returns next to ``J``. Its figures
are facts counted while the Jacobian ran (``_jacobians.RunLog``), never
timings or estimates: the passes and their directions, the taped runs of
``f``, the bytes the reverse tape held, and the explicit mode's exact
multiply-adds. Next to them, ``alternatives`` predicts what forward and
reverse mode would run for the same sizes, from the same chunking rule
(``_jacobians.forward_chunks`` / ``reverse_chunks``), and ``chosen_because``
says which mode the rule of ``mode="auto"`` (:func:`~dualrev._jacobians.choose_mode`)
picks and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ._jacobians import RunLog, choose_mode, forward_chunks, reverse_chunks
from .explicit import ExplicitCost

__all__ = ["Cost", "build_cost", "check_return_cost", "predict"]

#: The figures of an :class:`~dualrev.explicit.ExplicitCost` a ``Cost`` passes on
#: (``multiply_adds`` is a field of ``Cost`` itself).
EXPLICIT_FIELDS = frozenset(f.name for f in fields(ExplicitCost)) - {"multiply_adds"}


@dataclass(frozen=True)
class Cost:
    """What one ``jacobian(..., return_cost=True)`` call ran (the same record for every mode).

    * ``mode``: the mode that ran (``"forward"``, ``"reverse"`` or
      ``"explicit"``; for ``mode="auto"`` the one it chose);
      ``requested``: the mode asked for (``"auto"`` included).
    * ``n_inputs`` / ``n_outputs``: n and m, the scalars of the differentiated
      input(s) and of the output (J is m × n).
    * ``passes``: forward passes (forward mode: one per chunk of input
      directions), backward sweeps (reverse mode: one per chunk of output
      directions), or 1 for the explicit mode's single recording;
      ``directions_per_pass``: the chunk sizes, one per pass (the explicit
      mode pushes no direction through the program: ``(0,)``);
      ``directions``: their sum (n JVPs or m VJPs).
    * ``recordings``: runs of ``f`` on a tape (reverse and explicit: 1; forward:
      0; auto: 1 when it had to record a tape to learn m, even if forward then
      won and the tape was dropped; 0 or 1 once m is remembered).
    * ``multiply_adds``: the explicit mode's exact count; None for forward and
      reverse (their rules run on vectors and are not counted).
    * ``tape_bytes``: reverse mode, the bytes of the distinct arrays the tape
      held at the end of recording (inputs and operands the VJP rules read;
      values kept by shape only count nothing); None otherwise.
    * ``peak_bytes``: None (not measured: that would need tracemalloc on
      every call; see ``timing/`` for peak-memory measurements).
    * ``chosen_because``: one sentence on the choice, e.g.
      ``"m=3 ≤ n=10: 3 VJPs instead of 10 JVPs"``.
    * ``alternatives``: ``{"forward": {...}, "reverse": {...}}``, the passes,
      directions and chunk sizes each mode would run for these sizes and this
      ``chunk_size`` (the one that ran matches its prediction).
    * ``explicit``: the explicit mode's :class:`~dualrev.explicit.ExplicitCost`
      (None in the other modes). Its figures read through the ``Cost`` too:
      ``cost.plan``, ``cost.candidates``, ``cost.local_jacobian_entries``, ...
    """

    mode: str
    requested: str
    n_inputs: int
    n_outputs: int
    passes: int
    directions_per_pass: tuple[int, ...]
    recordings: int
    multiply_adds: int | None = None
    tape_bytes: int | None = None
    peak_bytes: int | None = None
    chosen_because: str = ""
    alternatives: dict = field(default_factory=dict)
    explicit: ExplicitCost | None = None

    @property
    def directions(self) -> int:
        """JVPs (forward) or VJPs (reverse) pushed through the program in all."""
        return sum(self.directions_per_pass)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: the explicit mode's figures.
        if name not in EXPLICIT_FIELDS:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        explicit = self.__dict__.get("explicit")
        if explicit is None:
            raise AttributeError(
                f"Cost.{name}: only mode='explicit' forms local Jacobians, and this Jacobian ran "
                f"mode={self.__dict__.get('mode')!r}; use dr.jacobian(f, mode='explicit', "
                f"return_cost=True) for {name}"
            )
        return getattr(explicit, name)


def check_return_cost(value: Any, who: str) -> bool:
    """``return_cost`` must be a bool (a truthy string or array is a mistake)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{who}: return_cost must be True or False, got {value!r} ({type(value).__name__}); "
            f"pass return_cost=True to get (J, cost)"
        )
    return bool(value)


def predict(n: int, m: int, chunk_size: int | None) -> dict[str, dict[str, Any]]:
    """What forward and reverse mode run for a Jacobian of Rⁿ → Rᵐ: passes,
    directions and chunk sizes (by the chunking rule the runs themselves use)."""
    fwd = [stop - start for start, stop in forward_chunks(n, chunk_size)]
    rev = [stop - start for start, stop in reverse_chunks(n, m, chunk_size)]
    return {
        "forward": {"passes": len(fwd), "directions": n, "directions_per_pass": tuple(fwd), "recordings": 0},
        "reverse": {"passes": len(rev), "directions": m, "directions_per_pass": tuple(rev), "recordings": 1},
    }


def _plural(k: int, what: str) -> str:
    return f"{k} {what}" if k == 1 else f"{k} {what}s"


def _rule(n: int, m: int) -> tuple[str, str]:
    """(auto's choice for Rⁿ → Rᵐ, the reason in a few words)."""
    choice = choose_mode(n, m)
    if choice == "reverse":
        return choice, f"m={m} ≤ n={n}: {_plural(m, 'VJP')} instead of {_plural(n, 'JVP')}"
    return choice, f"m={m} > n={n}: {_plural(n, 'JVP')} instead of {_plural(m, 'VJP')}"


def _because(log: RunLog, requested: str) -> str:
    n, m = log.n_inputs, log.n_outputs
    if requested != "auto":
        choice, reason = _rule(n, m)
        verdict = "mode='auto' makes the same choice" if choice == requested else f"mode='auto' would choose {choice}"
        return f"mode={requested!r} was asked for ({verdict}: {reason})"
    decided = m if log.decided_on is None else log.decided_on
    _, reason = _rule(n, decided)
    if log.remembered:
        reason += " (m remembered from an earlier call with these input shapes)"
    elif log.mode == "forward":
        reason += " (one taped run of f measured m; its tape was dropped)"
    else:
        reason += " (the taped run that measured m was reused)"
    return reason


def build_cost(log: RunLog, requested: str, chunk_size: int | None, explicit: ExplicitCost | None) -> Cost:
    """The :class:`Cost` of the run ``log`` describes (``requested``: the mode asked for)."""
    return Cost(
        mode=log.mode,
        requested=requested,
        n_inputs=log.n_inputs,
        n_outputs=log.n_outputs,
        passes=len(log.directions),
        directions_per_pass=tuple(log.directions),
        recordings=log.recordings,
        multiply_adds=None if explicit is None else explicit.multiply_adds,
        tape_bytes=log.tape_bytes,
        chosen_because=_because(log, requested),
        alternatives=predict(log.n_inputs, log.n_outputs, chunk_size),
        explicit=explicit,
    )
