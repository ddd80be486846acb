"""The one error type the library raises for a user's mistake.

The CLI catches :class:`UNetExplainError` once, at its boundary, and turns it
into a single line on stderr and a non-zero exit status; library users get an
ordinary exception whose message says what was expected, what was received and
what to do instead.
"""

from __future__ import annotations


class UNetExplainError(ValueError):
    """A user-facing error: bad input or a missing tool. Never a bug."""

    #: Exit status the CLI uses for this error (2: bad input, like argparse).
    exit_code: int = 2


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


class MissingToolError(UNetExplainError):
    """An external program or optional package is not installed."""

    exit_code = 1


class OutputError(UNetExplainError):
    """A file could not be written where the user asked."""

    exit_code = 1
