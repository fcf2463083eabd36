"""Tape replay: ``replay=True`` on ``grad``, ``value_and_grad``, ``jacobian``,
``jvp``, ``vjp`` and ``hvp``.

The first call with a given input signature records the function's program
(``program.py``); later calls re-execute the recorded primitives on the new
inputs without running the function's Python (``run.py``). A recording that
read a traced value (a Python branch on a comparison, ``bool``, ``float``,
``.item()``, a value-dependent shape or index) is refused, and the function
runs unreplayed, with one :class:`ReplayWarning` saying why (``cache.py``).

What replay assumes, as ``jax.jit`` does: the function is pure — arrays it
closes over, globals and random draws are read once, at recording.
"""

from .cache import Replayer, ReplayWarning, replayer_of, signature
from .program import PlainNode, Program, ProgramTrace, record_program
from .run import as_function, replay_forward, replay_linearized, replay_pullback

__all__ = [
    "Replayer",
    "ReplayWarning",
    "replayer_of",
    "signature",
    "Program",
    "ProgramTrace",
    "PlainNode",
    "record_program",
    "as_function",
    "replay_pullback",
    "replay_forward",
    "replay_linearized",
]
