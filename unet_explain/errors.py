"""The one error type the library raises for a user's mistake.

The CLI catches :class:`UNetExplainError` once, at its boundary, and turns it
into a single line on stderr and a non-zero exit status; library users get an
ordinary exception whose message says what was expected, what was received and
what to do instead.
"""

from __future__ import annotations


class UNetExplainError(ValueError):
    """A user-facing error: bad input or a missing tool. Never a bug."""

    #: Exit status the CLI uses for this error: 2 for bad usage or input (like argparse),
    #: 1 for a runtime or I/O failure (a full disk, a missing or failing tool).
    exit_code: int = 2

    def __init__(self, *args: object, exit_code: int | None = None) -> None:
        super().__init__(*args)
        if exit_code is not None:
            self.exit_code = exit_code


class ConfigError(UNetExplainError):
    """A configuration value breaks a rule.

    ``argument`` is the config field's name (``input_size``); the CLI spells it
    as its flag (``--input-size``).
    """

    def __init__(self, argument: str, message: str) -> None:
        self.argument = argument
        self.detail = message
        super().__init__(f"{argument} {message}")

    def with_flag_names(self) -> str:
        """The message with the argument spelled as the CLI flag."""
        return f"--{self.argument.replace('_', '-')} {self.detail}"


class ToolError(UNetExplainError):
    """An external program (Graphviz) failed, timed out or produced nothing."""

    exit_code = 1


class MissingToolError(ToolError):
    """An external program or optional package is not installed."""


class OutputError(UNetExplainError):
    """A file could not be written where the user asked (exit 1; 2 when the path itself is bad input)."""

    exit_code = 1


#: Longest user value echoed in full in a message; longer ones keep their start and end.
SHOWN_LIMIT = 80


def shown(value: object, limit: int = SHOWN_LIMIT) -> str:
    """A user's value as a message quotes it: like ``repr``, but control characters always escaped
    (a file name cannot drive the terminal) and a long value cut to its start and end, with its length.
    Text is quoted; anything else is its ``repr``.
    """
    if not isinstance(value, str):  # not text: shown as Python spells it (np.int64(572), None, 1.5)
        text = repr(value)
        return text if len(text) <= limit and text.isprintable() else plain(text, limit)
    text = value
    if len(text) <= limit and text.isprintable():
        return repr(text)
    cut = f" ({len(text):,} characters)" if len(text) > limit else ""
    return f"'{plain(text, limit)}'{cut}"


def plain(value: object, limit: int = SHOWN_LIMIT) -> str:
    """Text from outside (a user's value, a tool's message) made safe for one line: control characters
    escaped (newlines too), and a long text cut to its start and end around ``...``."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        head, tail = _escape(text[: limit - 24]), _escape(text[-16:])
        return f"{head}...{tail}"
    return _escape(text)


def _escape(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
