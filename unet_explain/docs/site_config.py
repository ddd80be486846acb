"""The network a site is built for, and a placeholder's flags on top of the site's.

A site is built for one network (``unet-explain docs build --input-size 508
--in-channels 3``; the paper's by default). Its flags are the *site flags*; a
placeholder's own flags are applied on top of them, so ``{{ table }}`` is the
table of the site's network and ``{{ table --depth 3 }}`` changes only the
depth. ``--paper`` in a placeholder drops the site flags: the numbers a page
quotes as *the paper's* stay the paper's whatever the site is built for. In
flags, ``@input-2`` is the site's input size minus 2 and ``@next`` the next
valid size above it.

The flags are read by the command line's own :func:`~unet_explain.cli.options.add_config_flags`.
"""

from __future__ import annotations

import argparse
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from unet_explain.cli.options import add_config_flags, config_from_args
from unet_explain.config import UNetConfig, format_size_arg
from unet_explain.core.spec import UNetSpec, build_spec
from unet_explain.errors import UNetExplainError

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PAPER_MARK = "--paper"
VOLUME_MARK = "--volume"
"""In a placeholder: the site's network if it is a volume, else the 3D U-Net paper's (the page "From 2D to 3D")."""


class PlaceholderError(UNetExplainError):
    """A placeholder in a docs page that cannot be expanded."""


@dataclass(frozen=True)
class Site:
    """What a site is built for: the config flags of its network and the folder of its sources."""

    flags: tuple[str, ...] = ()
    """Config flags as pairs (``("--input-size", "508", "--in-channels", "3")``); empty = the paper."""
    root: Path = field(default_factory=lambda: PACKAGE_DIR.parent)
    """The folder holding ``mkdocs.yml`` and ``docs/`` (paths in placeholders are relative to it)."""

    @property
    def config(self) -> UNetConfig:
        return config_from_flags(list(self.flags))

    @property
    def is_paper(self) -> bool:
        return self.config == UNetConfig()


def config_parser() -> argparse.ArgumentParser:
    """A parser of the six configuration flags only, as the command line spells them."""
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    add_config_flags(parser)
    return parser


def config_from_flags(words: list[str]) -> UNetConfig:
    """A config from CLI configuration flags (``--input-size 188 --depth 3``); later flags win."""
    try:
        args, rest = config_parser().parse_known_args(words)
    except argparse.ArgumentError as err:
        raise PlaceholderError(str(err)) from None
    if rest:
        raise PlaceholderError(f"unknown words {rest}")
    return config_from_args(args)


# Site flags a command does not inherit: ``sizes`` depends on the depth and the padding only; it
# needs no input size (and the site's may be invalid under the placeholder's own flags, e.g. 508
# with --padding same).
NOT_INHERITED = {"sizes": frozenset({"--input-size", "--in-channels", "--num-classes", "--base-filters"})}


def with_site(words: list[str], site: Site, command: str = "") -> list[str]:
    """A placeholder's flags on top of the site's; ``--paper`` drops the site's flags; ``--volume`` see VOLUME_MARK.

    ``command`` names the CLI command the flags are for; the site flags it does not
    inherit (:data:`NOT_INHERITED`) are left out.
    """
    if VOLUME_MARK in words:  # the site's network if it is a volume, else the paper's 3D U-Net
        words = [w for w in words if w != VOLUME_MARK]
        if site.config.dims == 2:
            return ["--preset", "3d-unet", *words]
    words = size_tokens(words, site)
    if PAPER_MARK in words:
        return [w for w in words if w != PAPER_MARK]
    given = {w.split("=", 1)[0] for w in words if w.startswith("--")} | NOT_INHERITED.get(command, frozenset())
    pairs = zip(site.flags[::2], site.flags[1::2], strict=True)
    return [w for flag, value in pairs if flag not in given for w in (flag, value)] + words


def spec_for(words: list[str], site: Site) -> UNetSpec:
    """The spec a placeholder's flags select on this site (a page asks for the same few networks again and
    again: each is built once; specs are frozen)."""
    return _built(config_from_flags(with_site(words, site)))


@functools.lru_cache(maxsize=64)
def _built(config: UNetConfig) -> UNetSpec:
    return build_spec(config)


def stage_alias(name: str, spec: UNetSpec) -> str:
    """``encD``/``decD`` name the deepest level, and ``enc2|bottleneck`` the first of its names the network has
    (the level below ``enc1`` is ``enc2``, or the bottleneck at depth 1), so pages work for any depth."""
    depth = str(spec.config.depth)
    if "|" in name:
        present = {stage.name for stage in spec.stages}
        choices = [stage_alias(choice, spec) for choice in name.split("|")]
        return next((choice for choice in choices if choice in present), choices[-1])
    return {"encD": "enc" + depth, "decD": "dec" + depth}.get(name, name)


def split_option(words: list[str], option: str) -> tuple[str | None, list[str]]:
    """Take ``--option VALUE`` out of ``words``."""
    if option not in words:
        return None, words
    i = words.index(option)
    if i + 1 >= len(words):
        raise PlaceholderError(f"{option} needs a value")
    return words[i + 1], words[:i] + words[i + 2 :]


SIZE_TOKEN = re.compile(r"@(input|next)([+-]\d+)?")


def size_tokens(words: list[str], site: Site, first_is_side: bool = False) -> list[str]:
    """``@input-2``: the site's input size minus 2; ``@next``: the next valid size above it.

    So an example of a bad size stays bad, and of the next size stays valid, on a site built for any network.
    """
    from unet_explain.core.arithmetic import valid_sides

    config = site.config

    def side(n: int, which: str) -> int:
        if which == "input":
            return n
        return valid_sides(n + 1, n + 2 ** (config.depth + 1), config.depth, config.padding)[0]

    def sub(match: re.Match[str], one_side: bool) -> str:
        delta = int(match.group(2) or 0)
        # A range around a small tile (@input-48 for a 16-pixel tile) starts at 1, the smallest side there is.
        sides = tuple(max(side(n, match.group(1)) + delta, 1) for n in config.input_size)
        return str(sides[0]) if one_side else format_size_arg(sides)

    # After --min or --max (and first, with ``first_is_side``) a token is one side, a volume's first.
    out = []
    for i, word in enumerate(words):
        one = (i == 0 and first_is_side) or (i > 0 and words[i - 1] in ("--min", "--max"))
        out.append(SIZE_TOKEN.sub(functools.partial(sub, one_side=one), word))
    return out
