"""The fast path stays light: the table, the sizes and the package import never load TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from unet_explain.cli import main
code = main({argv!r})
heavy = sorted(m for m in ("tensorflow", "keras", "mkdocs") if m in sys.modules)
print("HEAVY", heavy, file=sys.stderr)
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["table"],
        ["table", "-f", "json"],
        ["sizes"],
        ["diagram", "-f", "text"],
        ["diagram", "-f", "dot", "-o", "/dev/null"],
        ["fit", "--memory", "11GiB"],
        ["fit", "--tile", "572", "--infer", "-f", "json"],
    ],
)
def test_fast_commands_import_no_tensorflow(argv):
    result = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, check=True)
    assert "HEAVY []" in result.stderr


def test_package_import_is_light():
    code = "import sys, unet_explain; print(sorted(m for m in ('tensorflow','keras') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_table_does_not_load_the_audit():
    """The parser is built for every command; it shows the audit's --unsafe text without loading the audit."""
    probe = (
        "import sys\nfrom unet_explain.cli import main\nmain(['table', '-f', 'json'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('unet_explain.model.audit')), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stderr.strip().splitlines()[-1] == "[]"
