"""Every command under hostile conditions: nothing lost, nothing run, no traceback (issue 11).

A table of cases, each run in a scratch folder holding things a careless writer
would damage: an existing output with mode 0600, a symlink, a dangling symlink,
a hard-linked pair, a folder named like an output, a FIFO. Every case asserts

* the exit status (0 ok, 1 runtime or I/O failure, 2 bad usage or input, 130 Ctrl-C);
* exactly one line on stderr for a failure (none for a success), and no traceback;
* that nothing in the scratch folder changed except the files the command was
  asked to write: names, types, modes, link counts, symlink targets and
  contents are compared before and after, so a replaced device, a split hard
  link, a widened mode or a left-over temporary file all fail the case.

Most cases run in-process through ``unet_explain.cli.main`` (fast); faults the
disk or the terminal would cause are injected (``ENOSPC`` in the middle of a
write, a Ctrl-C, a full or closed standard output). A subset runs as real
processes: encodings, ``| head -1``, ``> /dev/full``, SIGINT, a user without
write permission, and "TensorFlow is never imported" for a refused network.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from reliability_scratch import changed, snapshot

from unet_explain.cli import main
from unet_explain.loss_weights import touching_cells
from unet_explain.render import output

ROOT = Path(__file__).resolve().parent.parent
HAS_DOT = shutil.which("dot") is not None
LONG_OK = "u" * 246 + ".dot"  # 250 bytes: valid on disk, and the temporary name must still fit
LONG_BAD = "u" * 252 + ".dot"  # 256 bytes: over NAME_MAX

# --- the scratch folder -----------------------------------------------------------


def make_scratch(root: Path) -> None:
    (root / "keep.png").write_bytes(b"OLD PNG")
    os.chmod(root / "keep.png", 0o600)
    (root / "keep.dot").write_bytes(b"OLD DOT")
    os.chmod(root / "keep.dot", 0o640)
    (root / "target.dot").write_bytes(b"TARGET")
    os.symlink("target.dot", root / "link.dot")
    os.symlink("made.dot", root / "dangling.dot")
    os.symlink("loop.dot", root / "loop.dot")
    (root / "h1.dot").write_bytes(b"HARD")
    os.link(root / "h1.dot", root / "h2.dot")
    (root / "dir.png").mkdir()
    (root / "dir.dot").mkdir()
    (root / "dir.png" / "inside.txt").write_text("keep me")
    (root / "file.txt").write_text("a file, not a folder")
    os.mkfifo(root / "fifo.dot")
    np.save(root / "cells.npy", touching_cells(64, seed=3))
    np.save(root / "nobg.npy", np.ones((16, 16), dtype=np.int32))
    ids = np.zeros((24, 24), dtype=np.int64)
    ids[2:10, 2:10], ids[2:10, 11:20] = 10**12, 3
    np.save(root / "huge_ids.npy", ids)
    np.save(root / "whole_floats.npy", ids.astype(np.float64))
    np.save(root / "bool.npy", np.ones((4, 4), dtype=bool))
    np.save(root / "nan.npy", np.full((4, 4), np.nan))
    np.save(root / "d3.npy", np.ones((2, 3, 3), dtype=int))
    np.save(root / "empty.npy", np.zeros((0, 5), dtype=int))
    np.save(root / "negative.npy", np.full((3, 3), -2))
    np.save(root / "zeros.npy", np.zeros((5, 5), dtype=int))
    np.save(root / "scalar.npy", np.array(7))
    np.savez(root / "two.npz", a=np.ones((2, 2)), b=np.zeros((2, 2)))
    (root / "junk.npy").write_bytes(b"\x93NUMPY not really")


# --- faults ---------------------------------------------------------------------------


class _Raw(io.RawIOBase):
    """A standard output whose writes fail with ``err`` (a full disk, a closed pipe)."""

    def __init__(self, err: OSError) -> None:
        self.err: OSError | None = err
        self.fd = os.open(os.devnull, os.O_WRONLY)  # what rich points at /dev/null on a broken pipe

    def fileno(self) -> int:
        return self.fd

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.err is not None:
            raise self.err
        return len(data)


def fake_dot(bin_dir: Path, body: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "dot"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)


DOT_BODIES = {
    "empty": "cat >/dev/null; exit 0",
    "fails": "cat >/dev/null; echo 'Error: <stdin>: syntax error in line 1' >&2; exit 1",
    "hangs": "exec sleep 30",
}


def half_then(err: BaseException) -> Callable[[int, bytes], None]:
    """A replacement for the writer's loop: write half the bytes, then fail like a disk or a Ctrl-C."""

    def write(fd: int, data: bytes) -> None:
        os.write(fd, bytes(data[: max(1, len(data) // 2)]))
        raise err

    return write


# --- the table ---------------------------------------------------------------------------


@dataclass
class Case:
    argv: list[str]
    code: int
    message: str | None = None
    """A fragment of the one stderr line (failures), or of stdout (successes)."""
    writes: tuple[str, ...] = ()
    """Names in the scratch folder the command may change."""
    check: Callable[[Path, str], None] | None = None
    """More assertions: (scratch folder, stdout)."""
    fault: str | None = None
    """``enospc`` / ``interrupt`` in the middle of a file write; ``stdout-full`` / ``stdout-pipe``."""
    dot: str | None = None
    """A fake Graphviz (see DOT_BODIES), or ``missing``."""
    needs_dot: bool = False
    setup: Callable[[Path], None] | None = None
    stderr_lines: int | None = None
    """Lines on stderr when the command succeeds (default 0)."""
    id: str = field(default="")


def _mode(name: str, mode: int) -> Callable[[Path, str], None]:
    def check(root: Path, _: str) -> None:
        assert stat.S_IMODE(os.stat(root / name).st_mode) == mode

    return check


def _new_file_mode(root: Path, _: str) -> None:
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(root / "new.dot").st_mode) == 0o666 & ~mask
    assert (root / "new.dot").read_text().startswith("digraph unet")


def _through_link(root: Path, _: str) -> None:
    assert os.readlink(root / "link.dot") == "target.dot"
    assert (root / "target.dot").read_text().startswith("digraph unet")


def _dangling(root: Path, _: str) -> None:
    assert os.readlink(root / "dangling.dot") == "made.dot"
    assert (root / "made.dot").read_text().startswith("digraph unet")


def _hard_link_kept(root: Path, _: str) -> None:
    one, two = os.stat(root / "h1.dot"), os.stat(root / "h2.dot")
    assert one.st_ino == two.st_ino and one.st_nlink == 2
    assert (root / "h2.dot").read_text().startswith("digraph unet")


def _stdout_has(fragment: str) -> Callable[[Path, str], None]:
    def check(_: Path, out: str) -> None:
        assert fragment in out

    return check


def _starts(name: str, magic: bytes) -> Callable[[Path, str], None]:
    def check(root: Path, _: str) -> None:
        assert (root / name).read_bytes().startswith(magic)

    return check


def _huge_labels(root: Path) -> None:
    # A sparse 5000x5000 file: its header alone must be enough to refuse it.
    np.lib.format.open_memmap(root / "huge.npy", mode="w+", dtype=np.uint8, shape=(5000, 5000)).flush()


def _many_cells(root: Path) -> None:
    labels = np.zeros((1000, 1000), dtype=np.int32)
    labels[::20, ::20] = np.arange(1, 2501).reshape(50, 50)
    np.save(root / "many.npy", labels)


def _unicode_dir(root: Path) -> None:
    (root / "dossier ünïcødé ✓").mkdir()


def _flat_tile(root: Path, out: str) -> None:
    assert "625000000" in out.replace(",", "") or "625,000,000" in out
    assert (root / "t.png").read_bytes().startswith(b"\x89PNG")


def _text_npy(root: Path) -> None:
    (root / "text.npy").write_text("hell\n")


def _float16(root: Path) -> None:
    labels = np.zeros((24, 24), dtype=np.float16)
    labels[2:10, 2:10], labels[2:10, 11:20] = 1, 2
    np.save(root / "f16.npy", labels)


def _dust(root: Path) -> None:
    labels = np.zeros((300, 300), dtype=np.int32)
    labels.ravel()[: 10_001 * 2 : 2] = np.arange(1, 10_002)
    np.save(root / "dust.npy", labels)


def _both_highlighted(root: Path, _: str) -> None:
    from unet_explain.render.diagram import diagram

    written = (root / "new.dot").read_text()
    assert written.rstrip() == diagram(highlight="output,enc1").to_dot().rstrip()
    assert written.rstrip() != diagram(highlight="enc1").to_dot().rstrip(), "the first --highlight was dropped"


def _zipped(root: Path) -> None:
    import zipfile

    with zipfile.ZipFile(root / "zipped", "w") as archive:
        archive.writestr("config.json", "{}")


def _folder(root: Path) -> None:
    (root / "dir.keras").mkdir()


def _no_stdout(_: Path, out: str) -> None:
    assert out == "", "the report was printed before the output path was refused"


BUDGET = "memory budget of 4.0 GiB"

CASES: list[Case] = [
    # top level
    Case([], 2, "give a command: table, sizes"),
    Case(["--help"], 0, "exit status:"),
    Case(["--version"], 0, "unet-explain"),
    Case(["frobnicate"], 2, "invalid choice: 'frobnicate'"),
    Case(["--input-size", "572", "table"], 2, "invalid choice"),
    # table
    Case(["table"], 0, "31,030,658"),
    *(Case(["table", "-f", f], 0, "31,030,658") for f in ("markdown", "latex", "html")),  # the paper's total
    *(Case(["table", "-f", f], 0, "31030658") for f in ("csv", "json")),
    Case(["table", "--input-size", "570"], 2, "nearest valid sizes: 556, 572"),
    Case(["table", "--input-size", "0"], 2, "must be between 1 and 100000"),
    Case(["table", "--input-size", "9" * 30], 2, "must be between 1 and 100000"),
    Case(["table", "--input-size", "572x"], 2, "like 572x636; got '572x'"),
    Case(["table", "--input-size", "-572"], 2, "got '-572'"),
    Case(["table", "--input-size", "572 x 636"], 0, "572x636"),
    Case(["table", "--depth", "7"], 2, "--depth must be between 1 and 6; got 7"),
    Case(["table", "--depth", "-1"], 2, "--depth must be between 1 and 6"),
    Case(["table", "--depth", "1e3"], 2, "must be a whole number written with the digits 0-9, like 4; got '1e3'"),
    Case(["table", "--base-filters", "0"], 2, "--base-filters must be between 1"),
    Case(["table", "--base-filters", "4097"], 2, "--base-filters must be between 1 and 4096"),
    Case(["table", "--base-filters", "4096"], 0, "4096 base filters"),  # the table is arithmetic: fine
    Case(["table", "--in-channels", "100000"], 2, "--in-channels must be between 1"),
    Case(["table", "--num-classes", "1"], 2, "--num-classes must be between 2"),
    Case(["table", "--padding", "FULL"], 2, "--padding must be 'valid' (the paper) or 'same'; got 'FULL'"),
    Case(["table", "--format", "xml"], 2, "invalid choice: 'xml'"),
    Case(["table", "--bogus"], 2, "unrecognized arguments: --bogus"),
    Case(["table", "--depth", "3", "--padding", "same"], 2, "572 is the default tile, pass --input-size"),
    Case(["table"], 1, "No space left on device", fault="stdout-full"),
    Case(["table", "-f", "json"], 1, "No space left on device", fault="stdout-full"),
    Case(["table"], 0, None, fault="stdout-pipe"),
    # sizes
    Case(["sizes", "-f", "plain", "--min", "540", "--max", "604"], 0, "540 556 572 588 604"),
    Case(["sizes", "--min", "700", "--max", "100"], 2, "--max must not be below --min"),
    Case(["sizes", "--max", str(10**12)], 2, "--max must be between 1 and 100000"),
    Case(["sizes", "--min", "-5"], 2, "--min must be between 1 and 100000"),
    Case(["sizes", "--depth", "9"], 2, "--depth must be between 1 and 6"),
    Case(["sizes", "--input-size", "570"], 2, "nearest valid sizes"),
    Case(["sizes", "-f", "json"], 0, '"sizes"'),
    Case(["sizes"], 0, None, fault="stdout-pipe"),
    Case(["sizes", "-f", "plain"], 1, "No space left on device", fault="stdout-full"),
    # receptive-field
    Case(["receptive-field"], 0, "Receptive field"),
    Case(["receptive-field", "-f", "json"], 0, '"rows"'),
    Case(["receptive-field", "--depth", "0"], 2, "--depth must be between 1 and 6"),
    Case(["receptive-field", "--input-size", "571"], 2, "nearest valid sizes"),
    Case(["receptive-field", "-f", "svg"], 2, "invalid choice: 'svg'"),
    # diagram: DOT and text need no Graphviz
    Case(["diagram", "-f", "dot", "-o", "new.dot"], 0, "Wrote the U diagram", ("new.dot",), _new_file_mode),
    Case(["diagram", "-f", "dot", "-o", "keep.dot"], 0, None, ("keep.dot",), _mode("keep.dot", 0o640)),
    Case(["diagram", "-f", "dot", "-o", "link.dot"], 0, None, ("target.dot",), _through_link),
    Case(["diagram", "-f", "dot", "-o", "dangling.dot"], 0, None, ("made.dot",), _dangling),
    Case(["diagram", "-f", "dot", "-o", "h1.dot"], 0, None, ("h1.dot", "h2.dot"), _hard_link_kept),
    Case(["diagram", "-f", "dot", "-o", "/dev/null"], 0, "to /dev/null"),
    Case(["diagram", "-f", "dot", "-o", "/dev/full"], 1, "cannot write output '/dev/full': No space left on device"),
    Case(["diagram", "-f", "dot", "-o", "fifo.dot"], 1, "no process is reading this pipe"),
    Case(["diagram", "-f", "dot", "-o", "-"], 0, "digraph unet {", stderr_lines=1),
    Case(["diagram", "-f", "dot", "-o", LONG_OK], 0, None, (LONG_OK,)),
    Case(["diagram", "-f", "dot", "-o", LONG_BAD], 2, "above this file system's limit of 255"),
    Case(["diagram", "-f", "dot", "-o", "loop.dot"], 2, "Too many levels of symbolic links"),
    Case(["diagram", "-f", "dot", "-o", LONG_BAD + "/x.dot"], 2, "File name too long"),
    Case(["diagram", "-f", "dot", "-o", "nodir/x.dot"], 2, "the folder 'nodir' does not exist"),
    Case(["diagram", "-f", "dot", "-o", "file.txt/x.dot"], 2, "a part of the path is not a folder"),
    Case(["diagram", "-f", "dot", "-o", "dir.dot"], 2, "is a folder"),
    Case(["diagram", "-o", "dir.png", "-f", "png"], 2, "is a folder", needs_dot=True),
    Case(["diagram", "-o", "u.png", "-f", "svg"], 2, "has suffix '.png' but --format is 'svg'"),
    Case(["diagram", "-o", "u.jpg"], 2, "cannot tell the format from its suffix '.jpg'"),
    Case(["diagram", "-o", "unet"], 2, "a name without a suffix"),
    Case(["diagram", "-f", "gif"], 2, "invalid choice: 'gif'"),
    Case(["diagram", "--input-size", "358"], 2, "nearest valid sizes: 348, 364"),
    Case(["diagram", "-f", "text", "--layers"], 2, "--layers draws Keras's layer graph"),
    Case(
        ["diagram", "-f", "dot", "-o", "dossier ünïcødé ✓/ü.dot"],
        0,
        None,
        ("dossier ünïcødé ✓/ü.dot",),
        setup=_unicode_dir,
    ),
    Case(["diagram", "-f", "dot", "-o", "keep.dot"], 1, "No space left on device", fault="enospc"),
    Case(["diagram", "-f", "dot", "-o", "new.dot"], 1, "No space left on device", fault="enospc"),
    Case(["diagram", "-f", "dot", "-o", "h1.dot"], 1, "No space left on device", fault="enospc"),
    Case(["diagram", "-f", "dot", "-o", "keep.dot"], 130, "interrupted", fault="interrupt"),
    Case(["diagram", "-f", "text", "-o", "u.txt"], 0, "Wrote the U diagram (text)", ("u.txt",)),
    Case(["diagram", "-f", "text", "-o", "/dev/full"], 1, "No space left on device"),
    Case(["diagram", "-f", "text", "-o", "file.txt"], 1, "No space left on device", fault="enospc"),
    Case(["diagram", "-f", "text", "-o", "keep.dot"], 2, "has suffix '.dot' but --format is 'text'"),
    Case(["diagram", "-o", "u.png", "-f", "text"], 2, "make them agree (e.g. 'u.txt', or --format png)"),
    Case(["diagram", "-f", "text"], 0, "bottleneck"),
    Case(["diagram", "-f", "text"], 1, "No space left on device", fault="stdout-full"),
    # diagram through Graphviz: real, missing, silent, failing, stuck
    Case(["diagram", "-o", "keep.png"], 0, None, ("keep.png",), _mode("keep.png", 0o600), needs_dot=True),
    Case(["diagram", "-o", "u.svg"], 0, None, ("u.svg",), _starts("u.svg", b"<?xml"), needs_dot=True),
    Case(["diagram", "-f", "png", "-o", "/dev/null"], 0, None, needs_dot=True),
    Case(["diagram", "-o", "/dev/null"], 2, "cannot tell the format from a name without a suffix"),
    Case(["diagram", "-o", "keep.png"], 1, "apt-get install graphviz", dot="missing"),
    Case(["diagram", "-o", "keep.png"], 1, "produced no png output; nothing was written", dot="empty"),
    Case(["diagram", "-o", "keep.png"], 1, "syntax error in line 1", dot="fails"),
    Case(["diagram", "-o", "keep.png"], 1, "did not finish rendering png within 0.5 s", dot="hangs"),
    Case(["diagram", "-f", "dot", "-o", "u.dot"], 0, None, ("u.dot",), dot="missing"),
    # tile
    Case(["tile", "--image", "2000x1500"], 0, "6 rows x 4 columns = 24 tiles"),
    Case(["tile", "--image", "2000x1500", "-f", "json"], 0, '"grid"'),
    Case(["tile"], 2, "the following arguments are required: --image"),
    Case(["tile", "--image", "0x5"], 2, "--image sides must be between 2"),
    Case(["tile", "--image", "100001x5"], 2, "--image sides must be between 2"),
    Case(["tile", "--image", "abc"], 2, "got 'abc'"),
    Case(["tile", "--image", "2000x1500", "--tile", "570"], 2, "--tile 570 is not valid"),
    Case(["tile", "--image", "2000x1500", "--tile", "572", "--input-size", "188"], 2, "give one of them"),
    Case(["tile", "--image", "2000x1500", "-o", "t.jpg"], 2, "cannot tell the format from its suffix '.jpg'"),
    Case(["tile", "--image", "2000x1500", "-o", "nodir/t.png"], 2, "the folder 'nodir' does not exist"),
    Case(["tile", "--image", "2000x1500", "-o", "dir.png"], 2, "is a folder"),
    Case(["tile", "--image", "2000x1500", "-o", "/dev/full"], 2, "cannot tell the format from a name without"),
    Case(["tile", "--image", "2000x1500", "-o", "keep.png"], 1, "No space left on device", fault="enospc"),
    Case(["tile", "--image", "2000x1500", "-o", "keep.png"], 130, "interrupted", fault="interrupt"),
    Case(["tile", "--image", "2000x1500", "-o", "keep.png"], 0, None, ("keep.png",), _mode("keep.png", 0o600)),
    Case(["tile", "--image", "100000x100000", "--tile", "188", "-o", "t.png"], 0, None, ("t.png",), _flat_tile),
    Case(["tile", "--image", "2000x1500"], 0, None, fault="stdout-pipe"),
    # weight-map
    Case(["weight-map", "--demo"], 0, "border term: peak"),
    Case(["weight-map"], 2, "give --demo"),
    Case(["weight-map", "--labels", "cells.npy"], 0, "Weight map of cells.npy: 64x64 pixels"),
    Case(["weight-map", "--labels", "missing.npy"], 2, "'missing.npy' is not a readable .npy array"),
    Case(["weight-map", "--labels", "dir.png"], 2, "is not a regular file"),
    Case(["weight-map", "--labels", "fifo.dot"], 2, "is not a regular file"),
    Case(["weight-map", "--labels", "/dev/zero"], 2, "is not a regular file"),
    Case(["weight-map", "--labels", "link.dot"], 2, "is not a .npy array file"),
    Case(["weight-map", "--labels", "junk.npy"], 2, "is not a readable .npy array"),
    Case(["weight-map", "--labels", "two.npz"], 2, "holds several arrays"),
    Case(["weight-map", "--labels", "bool.npy"], 2, "must hold whole numbers"),
    Case(["weight-map", "--labels", "nan.npy"], 2, "must hold whole numbers"),
    Case(["weight-map", "--labels", "d3.npy"], 2, "non-empty 2-D image of cell ids; got shape (2, 3, 3)"),
    Case(["weight-map", "--labels", "scalar.npy"], 2, "got shape ()"),
    Case(["weight-map", "--labels", "empty.npy"], 2, "got shape (0, 5)"),
    Case(["weight-map", "--labels", "negative.npy"], 2, "must not be negative"),
    Case(["weight-map", "--labels", "zeros.npy"], 2, "has no cells"),
    Case(["weight-map", "--labels", "nobg.npy"], 0, "background none (no background pixel)"),
    Case(["weight-map", "--labels", "huge_ids.npy"], 0, "2 cells"),
    Case(["weight-map", "--labels", "whole_floats.npy"], 0, "2 cells"),
    Case(["weight-map", "--labels", "huge.npy"], 2, "above the limit", setup=_huge_labels),
    Case(["weight-map", "--labels", "many.npy", "--sigma", "1e4"], 2, "use a smaller --sigma", setup=_many_cells),
    # hostile review 7, 11, 16
    Case(["weight-map", "--labels", "text.npy"], 2, "is not a .npy array file (no NumPy header)", setup=_text_npy),
    Case(["weight-map", "--labels", "f16.npy"], 0, "2 cells", setup=_float16),
    Case(["weight-map", "--labels", "dust.npy"], 2, "holds 10,001 cells, above the limit of 10,000", setup=_dust),
    Case(["weight-map", "--demo", "--w0", "1e308"], 2, "--w0 must be at most 1e+06"),
    Case(["weight-map", "--demo", "--sigma", "1e-300"], 2, "--sigma must be from 0.1 to 10000 pixels"),
    Case(["weight-map", "--demo", "--w0", "inf"], 2, "--w0 must be a finite number"),
    Case(["weight-map", "--demo", "--w0", "nan"], 2, "--w0 must be a finite number"),
    Case(["weight-map", "--demo", "--w0", "-1"], 2, "--w0 must be a finite number of at least 0"),
    Case(["weight-map", "--demo", "--w0", "ten"], 2, "--w0: must be a number such as 10 or 0.5; got 'ten'"),
    Case(["weight-map", "--demo", "--sigma", "0"], 2, "--sigma must be a finite number greater than 0"),
    Case(["weight-map", "--demo", "--sigma", "inf"], 2, "--sigma must be a finite number"),
    Case(["weight-map", "--demo", "--sigma", "nan"], 2, "--sigma must be a finite number"),
    Case(["weight-map", "--demo", "--sigma", "1e300"], 2, "--sigma must be from 0.1 to 10000 pixels"),
    Case(["weight-map", "--labels", "huge_ids.npy", "-o", "w.png"], 0, None, ("w.png",), _starts("w.png", b"\x89PNG")),
    Case(["weight-map", "--labels", "cells.npy", "-o", "w.jpg"], 2, "cannot tell the format"),
    Case(["weight-map", "--labels", "cells.npy", "-o", "/dev/full"], 2, "cannot tell the format from a name"),
    Case(["weight-map", "--labels", "cells.npy", "-o", "keep.png"], 1, "No space left", fault="enospc"),
    # Keras commands: what is refused before TensorFlow is imported
    Case(["verify", "--base-filters", "4096"], 2, BUDGET),
    Case(["summary", "--base-filters", "4096"], 2, BUDGET),
    Case(["compare", "--base-filters", "4096"], 2, BUDGET),
    Case(["summary", "--base-filters", "1024", "--max-memory", "8GiB"], 2, "memory budget of 8.0 GiB"),
    Case(["summary", "--max-memory", "1KiB"], 2, "above the memory budget of 1.0 KiB"),
    Case(["summary", "--max-memory", "lots"], 2, "--max-memory: must be a size such as 8GiB"),
    Case(["summary", "--max-memory", "0"], 2, "must be between 1 byte and 1 EiB"),
    Case(["summary", "--max-memory", "-1GiB"], 2, "must be between 1 byte and 1 EiB; got '-1GiB'"),
    Case(["summary", "--max-memory", "2EiB"], 2, "must be between 1 byte and 1 EiB; got '2EiB'"),
    Case(["verify", "--input-size", "570"], 2, "nearest valid sizes"),
    Case(["verify", "--depth", "9"], 2, "--depth must be between 1 and 6"),
    Case(["compare", "no-such-variant"], 2, "unknown variant 'no-such-variant'"),
    Case(["compare", "--padding", "full"], 2, "--padding must be 'valid'"),
    Case(["compare", "-f", "yaml"], 2, "invalid choice: 'yaml'"),
    # docs and audit: argument validation only (their helpers own the rest)
    Case(["docs"], 2, "the following arguments are required: action"),
    Case(["docs", "publish"], 2, "invalid choice: 'publish'"),
    Case(["docs", "serve", "--port", "0"], 2, "must be a port number from 1 to 65535"),
    Case(["docs", "serve", "--port", "http"], 2, "must be a port number from 1 to 65535"),
    Case(["audit"], 2, "the following arguments are required: MODEL"),
    Case(["audit", "m.keras", "-f", "xml"], 2, "invalid choice: 'xml'"),
    # output paths are checked before any work (hostile review 1, 3, 10, 13, 17, 20, 22)
    Case(["figure", "conv3x3", "-o", "c.svg", "-f", "png"], 2, "has suffix '.svg' but --format is 'png'"),
    Case(["figure", "pooling", "-o", "keep.png", "-f", "svg"], 2, "has suffix '.png' but --format is 'svg'"),
    Case(["diagram", "-f", "dot", "-o", "keep.dot/"], 2, "ends with a slash, so it names a folder"),
    Case(["figure", "pooling", "-o", "keep.png/"], 2, "ends with a slash, so it names a folder"),
    Case(["figure", "pooling", "-o", ".", "-f", "svg"], 2, "give a file name such as 'pooling.svg'"),
    Case(["tile", "--image", "2000x1500", "-o", "t.txt"], 2, ".png, .svg, .pdf", check=_no_stdout),
    Case(["weight-map", "--demo", "-o", "w.txt"], 2, ".png, .svg, .pdf", check=_no_stdout),
    Case(["weight-map", "--demo", "-o", "missing/w.png"], 2, "the folder 'missing' does not exist", check=_no_stdout),
    Case(["tile", "--image", "2000x1500", "-o", "-"], 2, "already carries the report", check=_no_stdout),
    Case(["diagram", "-f", "dot", "-o", ""], 2, "the path is empty; give a file name such as 'unet.dot'"),
    Case(["diagram", "-f", "text", "-o", ""], 2, "the path is empty"),
    Case(["diagram", "-o", ".svg"], 2, "a hidden file name ('.svg' has no suffix)"),
    Case(["weight-map", "--demo", "--labels", "cells.npy"], 2, "give one of them, not both"),
    # audit: what the model spec is, in words (hostile review 14)
    Case(["audit", ":raises"], 2, "nothing before ':raises'; name the file or module"),
    Case(["audit", "two.npz"], 2, "saved models need a .keras or .h5 suffix; rename it to two.keras"),
    Case(["audit", "file.txt"], 2, "a saved model needs a .keras or .h5 suffix, and a factory a ':function'"),
    Case(["audit", "zipped"], 2, "looks like a .keras zip archive", setup=_zipped),
    Case(["audit", "dir.keras"], 2, "is a folder, not a saved model file; give a .keras or .h5 file", setup=_folder),
    Case(["audit", "nothing-here"], 2, "no such file, and no ':function'"),
    Case(["audit", "os.path:join", "--in-channels", "0"], 2, "--in-channels"),
    # hostile review 21: plurals, thousands separators, SI prefixes past T
    Case(["tile", "--image", "388x388"], 0, "1 row x 1 column = 1 tile"),
    Case(["tile", "--image", "100000x100000", "--tile", "188"], 0, "625,000,000 tiles"),
    Case(["table", "--base-filters", "1"], 0, "1 base filter, padding"),
    Case(["tile", "--image", "100000x100000"], 0, "P multiply-accumulates"),
    Case(["table", "extra"], 2, "unrecognized arguments: extra (see 'unet-explain table --help')"),
    Case(["tile", "--image", "2000x1500", "--padding", "same"], 2, "572 is the default tile, pass --tile"),
    Case(["receptive-field"], 0, "no one pixel reaches both", check=_stdout_has("context margin")),
    # hostile review 20
    Case(["diagram", "-f", "text", "--theme", "dark"], 2, "the text U has none, drop it"),
    Case(
        ["diagram", "-f", "dot", "-o", "new.dot", "--highlight", "output", "--highlight", "enc1"],
        0,
        writes=("new.dot",),
        check=_both_highlighted,
    ),
    # docs build -d (hostile review 12, 20)
    Case(["docs", "build", "-d", "missing/site"], 2, "does not exist; create it first"),
    Case(["docs", "build", "-d", ""], 2, "-d '': the path is empty"),
    Case(["docs", "build", "--port", "1234"], 2, "--port is for 'docs serve'"),
]


def _case_id(case: Case) -> str:
    words = " ".join(a if len(a) < 20 else a[:8] + "..." for a in case.argv) or "(none)"
    return f"{words} [{case.fault or case.dot or case.code}]"


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "scratch"
    root.mkdir()
    make_scratch(root)
    monkeypatch.chdir(root)
    return root


def test_the_table_is_large_enough():
    commands = {case.argv[0] for case in CASES if case.argv and not case.argv[0].startswith("-")}
    assert len(CASES) >= 100
    assert commands >= {"table", "sizes", "diagram", "receptive-field", "tile", "weight-map", "verify", "summary"}
    assert commands >= {"compare", "docs", "audit"}


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_case(case: Case, scratch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    if case.needs_dot and not HAS_DOT:
        pytest.skip("Graphviz's dot is not installed")
    if case.setup:
        case.setup(scratch)
    if case.dot == "missing":
        monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    elif case.dot:
        fake_dot(tmp_path / "bin", DOT_BODIES[case.dot])
        monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setattr(output, "GRAPHVIZ_TIMEOUT", 0.5)
    if case.fault == "enospc":
        monkeypatch.setattr(output, "_write_all", half_then(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))))
    elif case.fault == "interrupt":
        monkeypatch.setattr(output, "_write_all", half_then(KeyboardInterrupt()))
    raw = None
    if case.fault in ("stdout-full", "stdout-pipe"):
        err = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) if case.fault == "stdout-full" else BrokenPipeError()
        raw = _Raw(err)
        monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8"))
    had_tensorflow = "tensorflow" in sys.modules
    before = snapshot(scratch)
    try:
        code = main(case.argv)
    finally:
        if raw is not None:
            raw.err = None  # let the fake stdout be discarded quietly
            sys.stdout.close()
            os.close(raw.fd)
    out, err = capsys.readouterr()

    assert code == case.code, err
    assert "Traceback" not in err and "Traceback" not in out
    if case.code == 0:
        assert err.count("\n") == (case.stderr_lines or 0), err
        if case.message and raw is None:
            assert case.message in out
    else:
        assert err.count("\n") == 1 and err.startswith("unet-explain"), err
        assert case.message is None or case.message in err, err
    difference = changed(before, snapshot(scratch))
    assert difference <= set(case.writes), f"changed without being asked: {sorted(difference - set(case.writes))}"
    if case.code != 0:
        assert not difference, f"a failed command changed {sorted(difference)}"
    if case.check:
        case.check(scratch, out)
    if not had_tensorflow and case.argv[:1] in (["verify"], ["summary"], ["compare"]):
        assert "tensorflow" not in sys.modules, "a refused network must not import TensorFlow"


# --- real processes ---------------------------------------------------------------------------


def cli(*argv: str, cwd: Path, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    full = os.environ | {"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "unet_explain", *argv],
        cwd=cwd, env=full, capture_output=True, text=True, check=False, **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize(
    "argv",
    [["table"], ["diagram", "-f", "text"], ["receptive-field"], ["tile", "--image", "2000x1500"], ["sizes"]],
)
def test_ascii_terminal_gets_ascii_arrows_and_rules(tmp_path, argv):
    result = cli(*argv, cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.isascii()
    if argv[0] in ("table", "diagram"):
        assert "->" in result.stdout
    if argv[0] == "table":  # the arrows are spelled before the layout, so the columns still line up
        widths = {len(line) for line in result.stdout.splitlines()[1:] if line.startswith("|")}
        assert len(widths) == 1


def test_ascii_error_message_with_a_unicode_path(tmp_path):
    result = cli("diagram", "-f", "dot", "-o", "nö/ü.dot", cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "does not exist" in result.stderr


@pytest.mark.parametrize("argv", [["table"], ["sizes"], ["receptive-field"], ["diagram", "-f", "text"]])
def test_a_closed_pipe_is_not_an_error(tmp_path, argv):
    shell = " ".join([sys.executable, "-m", "unet_explain", *argv]) + " | head -1; echo status=${PIPESTATUS[0]}"
    result = subprocess.run(
        ["bash", "-c", shell], cwd=tmp_path, capture_output=True, text=True, check=False,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.stdout.strip().endswith("status=0") and result.stderr == ""


@pytest.mark.parametrize("argv", [["table"], ["table", "-f", "csv"], ["sizes", "-f", "plain"], ["--help"]])
def test_a_full_standard_output_is_one_line(tmp_path, argv):
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "unet_explain", *argv], cwd=tmp_path, stdout=full, stderr=subprocess.PIPE,
            text=True, check=False, env=os.environ | {"PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    assert result.returncode == 1  # --help too: argparse's own printing must not hide a full disk
    assert result.stderr.count("\n") == 1 and "No space left on device" in result.stderr


def test_no_command_in_a_real_process(tmp_path):
    result = cli(cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == "" and result.stderr.count("\n") == 1


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_ctrl_c_during_graphviz_keeps_the_old_file(tmp_path):
    fake_dot(tmp_path / "bin", DOT_BODIES["hangs"])
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.png").write_bytes(b"OLD PNG")
    env = os.environ | {"PYTHONPATH": str(ROOT), "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "unet_explain", "diagram", "-o", "keep.png"],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not _has_child(proc.pid):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 130
    assert err.strip() == "unet-explain: interrupted" and "Traceback" not in err
    assert sorted(os.listdir(work)) == ["keep.png"] and (work / "keep.png").read_bytes() == b"OLD PNG"


def _has_child(pid: int) -> bool:
    try:
        return bool(Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    except OSError:
        return False


def test_a_refused_network_never_imports_tensorflow(tmp_path):
    code = (
        "import sys; from unet_explain.cli import main; "
        "status = main(['summary', '--base-filters', '4096']); "
        "sys.exit(3 if 'tensorflow' in sys.modules else status)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "1.1 TiB" in result.stderr and "--max-memory" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_a_folder_without_write_permission_is_one_line():
    """As root a mode never stops a write, so the command runs as 'nobody' (setpriv)."""
    base = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        base.chmod(0o755)
        (base / "ro").mkdir(mode=0o755)
        (base / "ro" / "keep.dot").write_bytes(b"OLD")
        result = subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
             sys.executable, "-m", "unet_explain", "diagram", "-f", "dot", "-o", "ro/keep.dot"],
            cwd=base, capture_output=True, text=True, check=False,
            env=os.environ | {"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
        )  # fmt: skip
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1 and "Permission denied" in result.stderr
        assert os.listdir(base / "ro") == ["keep.dot"] and (base / "ro" / "keep.dot").read_bytes() == b"OLD"
    finally:
        shutil.rmtree(base)


@pytest.mark.keras
def test_summary_into_a_closed_pipe_exits_0_quietly(tmp_path):
    # a narrow network: the same rows to print into the closed pipe, without drawing 31 million weights first
    shell = (
        f"{sys.executable} -m unet_explain summary --input-size 188 --base-filters 4 | head -1; "
        "echo status=${PIPESTATUS[0]}"
    )
    result = subprocess.run(
        ["bash", "-c", shell], cwd=tmp_path, capture_output=True, text=True, check=False,
        env=os.environ | {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert result.stdout.strip().endswith("status=0"), result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr


# --- the error boundary itself -----------------------------------------------------------------


def test_a_bug_keeps_its_traceback(monkeypatch):
    def broken(_: Any) -> int:
        return 1 // 0

    monkeypatch.setattr("unet_explain.cli.commands.table.cmd_table", broken)
    with pytest.raises(ZeroDivisionError):
        main(["table"])


def test_a_tensorflow_runtime_error_is_one_line(monkeypatch, capsys):
    failure = type("ResourceExhaustedError", (Exception,), {"__module__": "tensorflow.python.framework.errors_impl"})

    def build(_: Any) -> int:
        raise failure("OOM when allocating tensor with shape[3,3,64,64]\nmore detail")

    monkeypatch.setattr("unet_explain.cli.commands.keras.cmd_summary", build)
    assert main(["summary"]) == 1
    err = capsys.readouterr().err
    assert (
        err == "unet-explain: error: TensorFlow failed: ResourceExhaustedError: OOM when allocating tensor "
        "with shape[3,3,64,64]\n"
    )


def test_out_of_memory_is_one_line(monkeypatch, capsys):
    def build(_: Any) -> int:
        raise MemoryError

    monkeypatch.setattr("unet_explain.cli.commands.table.cmd_table", build)
    assert main(["table"]) == 1
    assert capsys.readouterr().err.startswith("unet-explain: error: out of memory")


def test_an_os_error_names_the_path(monkeypatch, capsys):
    def build(_: Any) -> int:
        raise PermissionError(errno.EACCES, "Permission denied", "/some/where.png")

    monkeypatch.setattr("unet_explain.cli.commands.table.cmd_table", build)
    assert main(["table"]) == 1
    assert capsys.readouterr().err == "unet-explain: error: cannot access '/some/where.png': Permission denied\n"


# --- the writer's rules, one by one ------------------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_replaced_file_keeps_its_owner_and_mode(tmp_path):
    target = tmp_path / "theirs.dot"
    target.write_bytes(b"OLD")
    os.chown(target, 65534, 65534)
    target.chmod(0o640)
    output.atomic_write(target, b"NEW")
    info = os.stat(target)
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (65534, 65534, 0o640)
    assert target.read_bytes() == b"NEW"


@pytest.mark.parametrize("name", ["u" * 255, "é" * 127, "\u2713" * 85])
def test_the_temporary_name_never_exceeds_name_max(name):
    assert len(name.encode()) <= 255
    temp = output._temp_name(Path(name), 255)
    assert len(temp.encode()) <= 255 and temp.startswith(".") and temp.endswith(".tmp")


def test_standard_output_by_name_is_written_through(tmp_path):
    """``-o /dev/stdout > out.dot`` writes into the shell's redirection instead of replacing the file."""
    with open(tmp_path / "out.dot", "w") as out:
        result = subprocess.run(
            [sys.executable, "-m", "unet_explain", "diagram", "-f", "dot", "-o", "/dev/stdout"],
            cwd=tmp_path, stdout=out, stderr=subprocess.PIPE, text=True, check=False,
            env=os.environ | {"PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.dot").read_text().startswith("digraph unet {")
    assert result.stderr.startswith("Wrote the U diagram")


def test_render_graph_takes_another_graphviz_program(tmp_path, monkeypatch):
    fake_dot(tmp_path / "bin", "cat >/dev/null; echo '<svg/>'")
    (tmp_path / "bin" / "dot").rename(tmp_path / "bin" / "neato")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert output.render_graph("digraph { a -> b }", "svg", prog="neato") == b"<svg/>\n"
    with pytest.raises(output.MissingToolError, match="'dot' program was not found"):
        output.render_graph("digraph { a -> b }", "svg")


def test_the_api_refuses_a_network_over_the_budget_before_tensorflow():
    from unet_explain import ConfigError, UNetConfig, build_model
    from unet_explain.core.budget import current_budget, memory_budget

    had_tensorflow = "tensorflow" in sys.modules
    with pytest.raises(ConfigError, match=r"1\.1 TiB .* memory budget of 4\.0 GiB"):
        build_model(UNetConfig(base_filters=4096))
    with memory_budget(1024), pytest.raises(ConfigError, match=r"budget of 1\.0 KiB"):
        build_model()
    assert current_budget() == 4 * 2**30  # restored
    assert had_tensorflow or "tensorflow" not in sys.modules


@pytest.mark.keras
def test_ctrl_c_while_tensorflow_loads_is_one_line(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "unet_explain", "summary"], cwd=tmp_path, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, env=os.environ | {"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err == "unet-explain: interrupted\n"


@pytest.mark.parametrize(
    "argv",
    [["table"], ["sizes"], ["diagram", "-f", "text"], ["receptive-field"], ["tile", "--image", "2000x1500"],
     ["weight-map", "--demo"]],
)  # fmt: skip
def test_a_closed_standard_output_is_one_line(tmp_path, argv):
    shell = " ".join([sys.executable, "-m", "unet_explain", *argv]) + " >&-"
    result = subprocess.run(
        ["bash", "-c", shell], cwd=tmp_path, capture_output=True, text=True, check=False,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr == "unet-explain: error: cannot write to standard output: it is closed\n"


@pytest.mark.parametrize("argv", [["table", "--depth", "9"], ["table", "-f", "json", "--depth", "9"], ["frobnicate"]])
def test_a_closed_standard_error_keeps_errors_off_standard_output(tmp_path, argv):
    shell = " ".join([sys.executable, "-m", "unet_explain", *argv]) + " 2>&-"
    result = subprocess.run(
        ["bash", "-c", shell], cwd=tmp_path, capture_output=True, text=True, check=False,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""


def test_a_file_written_to_standard_output_says_so_in_words(capsys):
    assert main(["diagram", "-f", "dot", "-o", "-"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("digraph unet") and err.endswith("to standard output\n")


def test_docs_build_through_a_symlink_builds_into_its_target_with_the_umask_mode(tmp_path):
    from unet_explain.docs import site

    (tmp_path / "site1").mkdir()
    (tmp_path / "site1" / site.MARKER).write_text("old site")
    os.symlink("site1", tmp_path / "sitelink")
    target = site.check_site_dir(tmp_path / "sitelink")
    assert target == (tmp_path / "site1").resolve()
    built = Path(tempfile.mkdtemp(dir=tmp_path))  # mode 0700, as the build's temporary folder
    (built / "index.html").write_text("new site")
    site._swap_in(built, target)
    assert os.readlink(tmp_path / "sitelink") == "site1"
    assert (tmp_path / "sitelink" / "index.html").read_text() == "new site"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site1", "sitelink"]  # no .old-* left behind
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(tmp_path / "site1").st_mode) == 0o777 & ~mask


FACTORY = """
import sys
five = 5
def exits():
    sys.exit(3)
def number():
    return 5
"""


@pytest.mark.keras
@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("exits", "the factory exited (SystemExit 3)"),
        ("number", "the factory returned an int, not a Keras model"),
        ("five", "'five' in 'f.py' is an int, not a function"),
    ],
)
def test_a_factory_that_exits_or_is_no_function_is_one_line(tmp_path, monkeypatch, capsys, name, fragment):
    (tmp_path / "f.py").write_text(FACTORY)
    monkeypatch.chdir(tmp_path)
    code = main(["audit", f"f.py:{name}"])
    out, err = capsys.readouterr()
    assert code == (1 if name == "exits" else 2) and out == ""
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err


def test_the_memory_grammar_reaches_the_limit_it_names():
    from unet_explain.core.budget import parse_bytes

    assert parse_bytes("1PiB") == 2**50 and parse_bytes("1EiB") == 2**60 and parse_bytes("1 PB") == 10**15
