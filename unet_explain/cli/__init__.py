"""The ``unet-explain`` command line: parse, call the library, print.

A thin layer by design, laid out like pip's ``_internal/cli``:

- :mod:`.options`: the flags several commands share (the network's configuration,
  ``--max-memory``) and the helper that adds a command to the parser;
- :mod:`.parser`: the full parser, built from one module per command (or family)
  in :mod:`.commands`;
- :mod:`.boundary`: :func:`main`, the one place where the library's
  :class:`~unet_explain.errors.UNetExplainError` and the system's failures become
  one line on stderr and an exit status;
- :mod:`.console`: printing rich renderables at the width they need, and saying
  what was written; :mod:`.ascii` spells the output in ASCII where the terminal
  cannot show more.

Heavy modules (TensorFlow, pydot, matplotlib, the docs tooling) are imported
inside the command that needs them, so ``unet-explain table`` starts in a
fraction of a second.
"""

from __future__ import annotations

from unet_explain.cli.boundary import main, run
from unet_explain.cli.parser import build_parser

__all__ = ["build_parser", "main", "run"]
