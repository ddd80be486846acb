"""The command line: exit status and one-line messages; bad input never shows a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import run


def test_table_default_is_the_paper(capsys):
    code, out, err = run(capsys, "table")
    assert code == 0 and err == ""
    assert "568x568 → 392x392 (crop 88)" in out
    assert "31,030,658" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--input-size", "0"], "--input-size must be between 1 and 100000 pixels per side; got 0"),
        (
            ["--input-size", "-5"],
            "--input-size: must be a positive whole number like 572, or HxW like 572x636; got '-5'",
        ),
        (["--input-size", "abc"], "got 'abc'"),
        (["--input-size", "570"], "nearest valid sizes: 556, 572"),
        (["--input-size", "358"], "enc2_pool receives 173"),
        (["--input-size", "572x570"], "along the columns"),
        (
            ["--input-size", "100x200"],  # both axes fail: both are named, rows then columns
            "along the rows, enc4_pool receives 5 pixels, but 2x2 max-pooling with stride 2 needs an even size; "
            "the smallest valid row size is 188; along the columns, enc3_pool receives 43 pixels",
        ),
        (["--input-size", str(10**9)], "got 1000000000"),
        (["--depth", "0"], "--depth must be between 1 and 6; got 0"),
        (["--depth", "two"], "argument --depth: must be a whole number written with the digits 0-9, like 4; got 'two'"),
        (["--padding", "full"], "--padding must be 'valid' (the paper) or 'same'; got 'full'"),
        (["--num-classes", "1"], "--num-classes must be between 2"),
    ],
)
@pytest.mark.parametrize("command", ["table", "sizes", "verify", "summary"])
def test_bad_input_one_line_exit_2(capsys, command, argv, fragment):
    code, out, err = run(capsys, command, *argv)
    assert code == 2
    assert out == ""
    assert fragment in err
    assert err.count("\n") == 1 and err.startswith("unet-explain")
    assert "Traceback" not in err


def test_unknown_format(capsys):
    code, _, err = run(capsys, "table", "--format", "xml")
    assert code == 2 and "invalid choice: 'xml'" in err and err.count("\n") == 1


def test_no_command_is_a_usage_error(capsys):
    """Like any argparse usage error: one line on stderr naming the commands, exit 2, nothing on stdout."""
    code, out, err = run(capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "give a command: table, sizes" in err and "--help" in err


def test_help_documents_the_exit_status(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "exit status:" in out and "130  interrupted (Ctrl-C)" in out


def test_json_config_flags(capsys):
    code, out, _ = run(capsys, "table", "-f", "json", "--input-size", "188x204", "--depth", "4", "--in-channels", "3")
    assert code == 0
    data = json.loads(out)
    assert data["config"]["input_size"] == [188, 204]
    assert data["config"]["in_channels"] == 3
    assert data["totals"]["output_size"] == [4, 20]


def test_sizes_lists_range(capsys):
    code, out, _ = run(capsys, "sizes", "--min", "540", "--max", "604", "-f", "plain")
    assert code == 0 and out.split() == ["540", "556", "572", "588", "604"]


def test_sizes_json_follows_depth_and_padding(capsys):
    code, out, _ = run(capsys, "sizes", "--min", "1", "--max", "40", "--depth", "3", "--padding", "same", "-f", "json")
    assert code == 0
    assert [row["input"] for row in json.loads(out)["sizes"]] == [8, 16, 24, 32, 40]


def test_sizes_bad_range(capsys):
    code, out, err = run(capsys, "sizes", "--min", "700", "--max", "100")
    assert code == 2 and out == "" and "--max must not be below --min (700); got 100" in err


@pytest.mark.parametrize("how", ["module", "console script"])
def test_module_entry_point_and_console_script(how):
    """`python -m unet_explain` and the installed `unet-explain` script run the same CLI, in a fresh process."""
    script = Path(sys.executable).parent / "unet-explain"  # installed next to the interpreter by pip
    if how == "console script":
        assert script.exists(), f"no console script at {script}: install the package ('pip install -e .')"
    command = [str(script)] if how == "console script" else [sys.executable, "-m", "unet_explain"]
    result = subprocess.run(
        [*command, "table", "--input-size", "358"],
        capture_output=True, text=True, check=False,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().startswith("unet-explain: error: --input-size 358 is not valid")
    assert "Traceback" not in result.stderr


def test_default_size_that_does_not_fit_says_so(capsys):
    code, out, err = run(capsys, "table", "--depth", "3", "--padding", "same")
    assert code == 2 and out == ""
    assert "--input-size 572 is not valid for depth 3 with padding 'same'" in err
    assert err.rstrip().endswith("; 572 is the default tile, pass --input-size")


def test_sizes_needs_no_input_size(capsys):
    code, out, _ = run(capsys, "sizes", "--depth", "3", "--min", "100", "--max", "150", "-f", "plain")
    assert code == 0 and out.split() == ["100", "108", "116", "124", "132", "140", "148"]


def test_docs_serve_rejects_a_bad_port_before_starting(capsys):
    code, out, err = run(capsys, "docs", "serve", "--port", "99999")
    assert code == 2 and out == "" and "must be a port number from 1 to 65535; got '99999'" in err


def test_a_command_parses_alone_exactly_as_in_the_full_parser():
    """main builds only the named command's parser; its help, flags and defaults are the full parser's."""
    from unet_explain.cli.parser import COMMAND_MODULES, build_parser, subcommands

    full = subcommands(build_parser())
    assert set(full) == {name for module in COMMAND_MODULES for name in module.NAMES}
    for module in COMMAND_MODULES:
        for name in module.NAMES:
            alone = subcommands(build_parser(name))
            assert list(alone) == [n for n in full if n in module.NAMES]
            assert alone[name].format_help() == full[name].format_help()
            assert alone[name].get_default("handler") is full[name].get_default("handler")
