"""Run the CLI in-process, as the tests of the commands do: the exit status and what it printed."""

from __future__ import annotations

from unet_explain.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """``unet-explain ARGV`` through :func:`main`; argparse's own usage errors give their status too."""
    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
