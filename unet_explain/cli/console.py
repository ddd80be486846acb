"""What the commands print: rich renderables at the width they need, one-line notes, and what was written."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

from unet_explain.cli.options import PROG
from unet_explain.errors import plain

PIPED_WIDTH = 160
"""The width of piped output: wide enough for the per-stage table, narrow enough to read."""

_receivers: list[Callable[[Any], None]] = []


def console() -> Any:
    """A rich console on standard output, without rich's guesses at highlighting numbers, and without
    its ``:emoji:`` codes (none are used; their table costs every run a few milliseconds to load)."""
    from rich.console import Console

    return Console(highlight=False, emoji=False)


def print_wide(renderable: Any) -> None:
    """Print a rich renderable; when piped, at up to 160 columns instead of 80.

    Inside :func:`capture_renderables` the renderable goes to the receiver instead (the docs turn
    it into a markdown table).
    """
    if _receivers:
        _receivers[-1](renderable)
        return
    out = console()
    if not out.encoding.lower().startswith("utf"):
        from unet_explain.cli.ascii import asciify

        renderable = asciify(renderable)  # before the layout, so that '->' for an arrow keeps columns aligned
    if not out.is_terminal:
        # Piped: up to 160 columns instead of 80. Every renderable printed here lays out at its
        # natural width (no expanding table, rule or centred text), so a wider console changes
        # nothing below 160 columns; it saves measuring the table twice.
        out.width = PIPED_WIDTH
    out.print(renderable)


@contextlib.contextmanager
def capture_renderables(receiver: Callable[[Any], None]) -> Iterator[None]:
    """Hand every renderable a command prints through :func:`print_wide` to ``receiver``, for the duration."""
    _receivers.append(receiver)
    try:
        yield
    finally:
        _receivers.remove(receiver)


def say(message: str) -> None:
    """One line on stderr, ``unet-explain: message``; silent if stderr itself is gone."""
    if sys.stderr is None:  # closed (``2>&-``): stay silent; print(file=None) would write to stdout
        return
    with contextlib.suppress(OSError, ValueError):
        print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def wrote(message: str, written: Any, *, to_stderr: bool = False) -> None:
    """Say what was written; on stderr when the file itself went to standard output (``-o -``).

    A closed stderr means silence: ``print(file=None)`` would put the note into the piped output.
    """
    message = plain(message, 5000)  # a file name's escape sequence must not drive the terminal
    if str(written) == "-":
        message = message.removesuffix(" to -") + " to standard output"
    if str(written) == "-" or to_stderr:
        if sys.stderr is not None:
            print(message, file=sys.stderr)
        return
    print(message)


def check_picture_output(text: str | None, example: str) -> None:
    """tile -o and weight-map -o: refuse a path that cannot take the picture before the report is printed."""
    if text is None:
        return
    from unet_explain.render.output import IMAGE_FORMATS, check_output_path, output_format

    output_format(check_output_path(text, example, stdout_ok=False), None, IMAGE_FORMATS, format_flag=False)
