"""The full argument parser: the program's own flags, then each command module adds its commands.

Also what the docs read to write the command-line reference and to know which
commands take the configuration flags.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from unet_explain.cli.commands import (
    audit,
    diagram,
    docs,
    figure,
    fit,
    keras,
    receptive_field,
    sizes,
    table,
    tile,
    weight_map,
)
from unet_explain.cli.options import PROG
from unet_explain.errors import plain

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

EXIT_STATUS = """\
exit status:
  0    success
  1    a runtime or I/O failure: a full disk, a permission, Graphviz, TensorFlow
  2    bad usage or input: an unknown flag, an invalid size, a missing folder, a file name too long
  129  hung up (SIGHUP), after the same clean-up as Ctrl-C
  130  interrupted (Ctrl-C)
  143  terminated (SIGTERM), after the same clean-up as Ctrl-C
Every failure is one line on stderr; nothing half-written is left behind."""

# In the order ``--help`` lists them; each module's ``register`` adds its command(s), named in its ``NAMES``.
COMMAND_MODULES = (table, sizes, fit, diagram, receptive_field, tile, figure, audit, weight_map, docs, keras)
COMMAND_NAMES = frozenset(name for module in COMMAND_MODULES for name in module.NAMES)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line, not a usage block."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # No flag starts with a digit: '-1GiB' or '-5x10' is a value (refused by its check, with the rule), not an
        # unknown flag leaving its option "expected one argument".
        self._negative_number_matcher = re.compile(r"^-\.?[0-9]")

    def error(self, message: str) -> NoReturn:
        # argparse quotes the value it rejects: a 100 kB argument or an escape sequence must not reach the terminal.
        self.exit(2, f"{self.prog}: error: {plain(message, 300)} (see '{self.prog} --help')\n")

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse sizes its formatter with shutil.get_terminal_size, and importing shutil (with bz2
        # and lzma) costs every run a few milliseconds: the same rule, from os alone.
        formatter: Any = self.formatter_class  # every HelpFormatter takes width=
        return formatter(prog=self.prog, width=_help_width())  # type: ignore[no-any-return]

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # argparse swallows a failed write; --help into a full disk must fail like any other output.
        target = file or sys.stderr
        if message and target is not None:  # None: stderr closed (2>&-), errors are not shown
            target.write(message)


def _help_width() -> int:
    """What ``shutil.get_terminal_size().columns - 2`` gives, as argparse's help uses it."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns or 80) - 2


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full argument parser (also used to generate the CLI reference in the docs).

    With ``command``, only the module of that command adds its parser: what :func:`main` builds when
    the first word names a command, so that ``unet-explain table`` does not build eleven parsers it
    will not use (argparse looks up its translations for each). That command parses exactly as in the
    full parser.
    """
    parser = Parser(
        prog=PROG,
        description="The original U-Net (Ronneberger, Fischer, Brox 2015) by its numbers and pictures.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from unet_explain import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in COMMAND_MODULES:
        if command is None or command in module.NAMES:
            module.register(sub)
    return parser


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Each command's own parser, by name, in the order ``--help`` lists them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}  # pragma: no cover


def command_parser(parser: argparse.ArgumentParser, name: str | None) -> argparse.ArgumentParser:
    """The parser of command ``name``, or the program's parser for no or an unknown command."""
    found = subcommands(parser).get(name or "")
    return found if found is not None else parser


def command_names(parser: argparse.ArgumentParser) -> list[str]:
    """The commands, in the order ``--help`` lists them."""
    return list(subcommands(parser))


def takes_config(parser: argparse.ArgumentParser, name: str) -> bool:
    """Whether command ``name`` takes the network's configuration flags."""
    found = subcommands(parser).get(name)
    return found is not None and any("--input-size" in a.option_strings for a in found._actions)
