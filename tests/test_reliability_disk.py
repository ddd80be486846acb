"""Nothing lost on a full disk or a signal, nothing partial written (issue 20, data loss).

Every case runs in a scratch folder (a tmpfs of its own under /tmp where the
disk has to be full or the folder append-only) and asserts, besides the exit
status and the one line, that nothing in the folder changed that the command
was not asked to write.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_scratch import ROOT, changed, cli, fill, one_line, snapshot, tmpfs

from unet_explain import interrupts
from unet_explain.errors import OutputError, plain, shown
from unet_explain.render import output

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
OLD = os.urandom(4000)


def _hard_pair(folder: Path) -> None:
    (folder / "a.png").write_bytes(OLD)
    os.link(folder / "a.png", folder / "b.png")


@needs_dot
def test_a_hard_linked_output_on_a_full_disk_keeps_its_old_content():
    # 160 KiB, a 4,000-byte a.png hard-linked as b.png, no room for the new PNG at all.
    with tmpfs("160k") as disk:
        _hard_pair(disk)
        fill(disk, 36 * 1024)  # less room than the new PNG (about 64 KB) needs
        before = snapshot(disk)
        done = cli("diagram", "-o", "a.png", cwd=disk)
        assert done.returncode == 1
        assert "No space left on device" in one_line(done.stderr)
        assert changed(before, snapshot(disk)) == set()
        assert (disk / "b.png").read_bytes() == OLD


@needs_dot
def test_a_hard_linked_output_on_a_nearly_full_disk_is_written_whole():
    # The report's case: about 100 KiB free, room for the new PNG (about 64 KB) once but not twice. The old
    # writer's temporary copy took the room, the in-place write failed halfway: both links truncated.
    with tmpfs("160k") as disk:
        _hard_pair(disk)
        fill(disk, 100 * 1024)
        done = cli("diagram", "-o", "a.png", cwd=disk)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        new = (disk / "b.png").read_bytes()
        assert new.startswith(b"\x89PNG") and new.endswith(b"IEND\xaeB`\x82")
        assert os.stat(disk / "a.png").st_nlink == 2
        assert sorted(p.name for p in disk.iterdir()) == ["a.png", "b.png", "filler"]


@pytest.mark.parametrize(
    "fault", [OSError(errno.ENOSPC, "No space left on device"), OSError(errno.EIO, "I/O error"), KeyboardInterrupt()]
)
def test_a_failure_halfway_through_an_in_place_write_puts_the_old_bytes_back(tmp_path, monkeypatch, fault):
    # A file system without fallocate: the reservation cannot prove the room, the write fails halfway.
    _hard_pair(tmp_path)

    def no_fallocate(*_):
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    def half_then_fail(fd: int, data: bytes) -> None:
        os.write(fd, bytes(data[: len(data) // 2]))
        raise fault

    monkeypatch.setattr(os, "posix_fallocate", no_fallocate)
    monkeypatch.setattr(output, "_write_all", half_then_fail)
    before = snapshot(tmp_path)
    with pytest.raises(OutputError if isinstance(fault, OSError) else KeyboardInterrupt):
        output.atomic_write(tmp_path / "a.png", b"N" * 10_000)
    assert changed(before, snapshot(tmp_path)) == set()


def test_a_signal_during_an_in_place_write_waits_until_the_file_is_whole(tmp_path, monkeypatch):
    _hard_pair(tmp_path)
    real = output._write_all

    def signalled(fd: int, data: bytes) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle: must not cut the write
        real(fd, data)

    monkeypatch.setattr(output, "_write_all", signalled)
    with pytest.raises(KeyboardInterrupt):
        output.atomic_write(tmp_path / "a.png", b"NEW" * 1000)
    assert (tmp_path / "b.png").read_bytes() == b"NEW" * 1000  # whole, then the interrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]


def test_an_append_only_folder_is_refused_before_a_temporary_file_is_made():
    with tmpfs("1m") as disk:
        folder = disk / "f"
        folder.mkdir()
        (folder / "u.png").write_bytes(b"OLD")
        subprocess.run(["chattr", "+a", str(folder)], check=True)
        before = snapshot(disk)
        for name in ("u.png", "new.dot"):
            done = cli("diagram", "-o", name, "-f", name.rsplit(".", 1)[1], cwd=folder)
            assert done.returncode == 1
            assert "append-only" in one_line(done.stderr)
        assert changed(before, snapshot(disk)) == set()


def _fake_dot(bin_dir: Path, body: str) -> dict[str, str]:
    bin_dir.mkdir()
    (bin_dir / "dot").write_text("#!/bin/sh\ncat >/dev/null\n" + body + "\nexit 0\n")
    (bin_dir / "dot").chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize(
    ("fmt", "body", "why"),
    [
        ("svg", "printf '<svg xmlns=\"http://www.w3.org/2000/svg\"><g><text>cut'", "not well-formed SVG"),
        ("png", r"printf '\211PNG\r\n\032\n\0\0\0\rIHDR'", "no IEND chunk"),
        ("pdf", "printf '%%PDF-1.4\\n1 0 obj'", "no %%EOF"),
        ("svg", "printf '<html/>'", "not SVG"),
    ],
)
def test_a_partial_graphviz_output_replaces_nothing(tmp_path, fmt, body, why):
    work = tmp_path / "work"
    work.mkdir()
    (work / f"u.{fmt}").write_bytes(b"OLD")
    env = _fake_dot(tmp_path / "bin", body)
    before = snapshot(work)
    done = cli("diagram", "-o", f"u.{fmt}", cwd=work, env=env)
    assert done.returncode == 1
    assert why in one_line(done.stderr)
    assert changed(before, snapshot(work)) == set()


@needs_dot
def test_the_completeness_check_accepts_what_graphviz_makes():
    for fmt in ("png", "svg", "pdf"):
        assert output.incomplete(output.render_graph("digraph { a -> b }", fmt), fmt) is None
    whole = output.render_graph("digraph { a -> b }", "png")
    assert "IEND" in str(output.incomplete(whole[:-1], "png"))


def test_terminated_is_an_interrupt_with_the_shells_status():
    for signum, code, words in ((signal.SIGTERM, 143, "SIGTERM"), (signal.SIGHUP, 129, "SIGHUP")):
        err = interrupts.Terminated(signum)
        assert isinstance(err, KeyboardInterrupt)
        assert interrupts.exit_status(err) == code
        assert words in interrupts.message(err)
    assert interrupts.exit_status(KeyboardInterrupt()) == 130


def test_sigterm_during_a_write_removes_the_temporary_file(tmp_path):
    # A child writes a big file slowly through atomic_write; SIGTERM arrives while the temporary file exists.
    script = (
        "import os, sys, time\n"
        "from unet_explain import interrupts\n"
        "from unet_explain.render import output\n"
        "interrupts.install()\n"
        "real = output._write_all\n"
        "def slow(fd, data):\n"
        "    os.write(fd, data[:10]); print('writing', flush=True); time.sleep(30); real(fd, data[10:])\n"
        "output._write_all = slow\n"
        "try:\n"
        "    output.atomic_write('u.png', b'x' * 1000)\n"
        "except KeyboardInterrupt as err:\n"
        "    sys.exit(interrupts.exit_status(err))\n"
    )
    (tmp_path / "u.png").write_bytes(b"OLD")
    before = snapshot(tmp_path)
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, env=env, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"writing\n"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 143
    assert changed(before, snapshot(tmp_path)) == set()


def test_messages_escape_control_characters_and_shorten_long_values():
    assert shown("u.png") == "'u.png'"
    assert "\x1b" not in shown("\x1b]2;pwned\x07.png") and "\\x1b" in shown("\x1b]2;pwned\x07.png")
    long = shown("s" * 100_000)
    assert len(long) < 120 and "100,000 characters" in long
    assert "\n" not in plain("line one\nline two") and len(plain("x" * 10_000, 200)) <= 200
    done = output.OutputError(f"cannot write output {shown('a' * 5000)}")
    assert len(str(done)) < 160
