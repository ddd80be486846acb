"""What the command line prints, for the pages: a command's output captured, and the CLI reference.

``{{ console ARGS }}`` runs ``unet-explain ARGS`` in-process; the tables it
prints become markdown tables (:mod:`.richmd`), any other text a wrapping block.
``{{ cli-reference }}`` and ``{{ config-commands }}`` read the CLI's own parser.
"""

from __future__ import annotations

import contextlib
import io
import shlex
from typing import Any

from unet_explain.cli.parser import build_parser, subcommands, takes_config
from unet_explain.docs.markup import and_list, console_block, stage_table
from unet_explain.docs.site_config import PAPER_MARK, Site, size_tokens, with_site


class _Recorder(io.StringIO):
    """stdout/stderr of a CLI run, cut into blocks wherever a rich renderable was printed."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[tuple[str, Any]] = []

    def flush_text(self) -> None:
        text = self.getvalue()
        if text.strip():
            self.blocks.append(("text", text))
        self.seek(0)
        self.truncate()


def console(words: list[str], site: Site) -> str:
    """``$ unet-explain WORDS`` and its output: tables as markdown tables, other text wrapped."""
    from unet_explain.cli.boundary import main
    from unet_explain.cli.console import capture_renderables
    from unet_explain.docs import richmd

    words = size_tokens(words, site)
    if words and takes_config(build_parser(), words[0]):
        words = [words[0], *with_site(words[1:], site, words[0])]
    else:
        words = [w for w in words if w != PAPER_MARK]
    recorder = _Recorder()

    def capture(renderable: Any) -> None:
        recorder.flush_text()
        recorder.blocks.append(("rich", renderable))

    with (
        capture_renderables(capture),
        contextlib.redirect_stdout(recorder),
        contextlib.redirect_stderr(recorder),
        contextlib.suppress(SystemExit),
        contextlib.chdir(site.root),
    ):
        main(words)
    recorder.flush_text()
    command = f"$ unet-explain {shlex.join(words)}\n"
    if recorder.blocks and recorder.blocks[0][0] == "text":  # the command and what it printed, in one block
        recorder.blocks[0] = ("text", command + recorder.blocks[0][1])
    else:
        recorder.blocks.insert(0, ("text", command))
    out = []
    for kind, block in recorder.blocks:
        out.append(console_block(block) if kind == "text" else stage_table(richmd.to_markdown(block)))
    return "\n".join(out)


def cli_reference(words: list[str], site: Site) -> str:
    """Every command with its usage, options and help, from the CLI's own parser."""
    parser = build_parser()
    out = ["```text", parser.format_help().rstrip(), "```", ""]
    for name, command in subcommands(parser).items():
        out += [f"## `unet-explain {name}`", "", command.description or "", "", "```text"]
        out += [command.format_help().rstrip(), "```", ""]
    return "\n".join(out)


def config_commands(words: list[str], site: Site) -> str:
    """Which commands take the configuration flags, read from the CLI's own parser."""
    parser = build_parser()
    names = list(subcommands(parser))
    takes = [name for name in names if takes_config(parser, name)]
    others = [name for name in names if name not in takes]
    text = (
        f"The commands that describe one network ({and_list([f'`{n}`' for n in takes])}) take the "
        "configuration flags `--input-size`, `--in-channels`, `--num-classes`, `--depth`, `--base-filters` "
        "and `--padding` (defaults: the paper's network)"
    )
    if others:
        one = len(others) == 1
        verb, pronoun = ("does", "it works on what you give it") if one else ("do", "they work on what you give them")
        text += f"; {and_list([f'`{n}`' for n in others])} {verb} not: {pronoun}, not on a network's configuration"
    return text + "."
