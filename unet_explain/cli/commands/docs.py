"""``unet-explain docs build|serve``: the walkthrough site (MkDocs) for a configuration."""

from __future__ import annotations

import argparse
from typing import Any

from unet_explain.cli.options import add_command, add_memory_flag, config_from_args, port_arg
from unet_explain.errors import UNetExplainError

NAMES = ("docs",)
"""The command(s) :func:`register` adds."""


def cmd_docs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from unet_explain.core.budget import check_memory
    from unet_explain.docs.site import SITE_MODELS, build_site, serve_site

    config = config_from_args(args)  # checked before anything is built or served
    # The site builds Keras models of the network in one process (summary, verify, the variants): budgeted as a
    # whole before MkDocs starts, refused in one line like verify.
    check_memory(config, args.max_memory, models=SITE_MODELS, what="building the site's Keras models")
    if args.action == "serve":
        if args.site_dir is not None:
            raise UNetExplainError("-d/--site-dir is for 'docs build'; 'docs serve' builds into a temporary folder")
        if args.site_url is not None:
            raise UNetExplainError("--site-url is for 'docs build'; 'docs serve' serves on 127.0.0.1, drop it")
        serve_site(args.port or 8000, config=config, announce=True)
        return 0
    if args.port is not None:
        raise UNetExplainError("--port is for 'docs serve'; 'docs build' writes files and serves nothing, drop it")
    if args.site_dir == "":
        raise UNetExplainError("-d '': the path is empty; name a folder for the site, e.g. -d site")
    site_dir = Path(args.site_dir) if args.site_dir is not None else None
    site, seconds = build_site(site_dir, config=config, site_url=args.site_url)
    from unet_explain.errors import plain

    # plain(): a folder name's escape sequence or newline must not drive the terminal
    print(
        plain(
            f"Built the site for {config.describe()} in {seconds:.1f} s: open {site / 'index.html'}, "
            "or browse it with 'unet-explain docs serve'",
            5000,
        )
    )
    return 0


def register(sub: Any) -> None:
    p = add_command(
        sub,
        "docs",
        cmd_docs,
        "Build or serve the walkthrough site (MkDocs) for a configuration, generated from the package.",
    )
    p.add_argument(
        "action", choices=("build", "serve"), help="build the site into a folder, or serve it with live reload"
    )
    p.add_argument(
        "-d",
        "--site-dir",
        metavar="DIR",
        help="build: the output folder (default ./site); replaced only by a successful build, "
        "and only if empty or an earlier unet-explain site",
    )
    p.add_argument("--port", type=port_arg, help="serve: the port on 127.0.0.1 (default 8000)")
    add_memory_flag(p)
    p.add_argument(
        "--site-url",
        metavar="URL",
        help="build: the address the site will be published at, for sitemap.xml and canonical links "
        "(default: none; the site works from wherever it is served)",
    )
