"""Tracebacks, statuses and messages at the command line (issue 20).

Each case runs the command in a scratch folder and asserts the exit status,
the one line (or silence on success), and that nothing in the folder changed
that the command was not asked to write. Where the process itself is what is
tested (signals, closed descriptors, settings read from the environment when a
library is imported) the command runs as a real process; elsewhere in-process
through ``main`` (tests/cli_run.py), which gives the same status and output.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_run import run
from reliability_scratch import ROOT, changed, cli, one_line, snapshot

from unet_explain.cli import main

SMALL = ["--input-size", "188", "--depth", "2", "--base-filters", "4"]


def test_signals_are_in_the_exit_status_table(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "143  terminated (SIGTERM)" in out and "129  hung up (SIGHUP)" in out
    readme = (ROOT / "README.md").read_text()
    assert "| 143 | terminated (SIGTERM" in readme and "| 129 | hung up (SIGHUP" in readme


def run_script(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -c SCRIPT`` with the package importable, its output captured."""
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, env=env, timeout=60)


def _popen(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = os.environ | {"PYTHONPATH": str(ROOT)} | (env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "unet_explain", *argv], cwd=cwd, env=environment, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _wait_for(predicate, proc: subprocess.Popen[str], limit: float = 300) -> None:
    deadline = time.monotonic() + limit  # a bound on waiting, not an assert on speed
    while not predicate():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the condition never came"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "code", "words"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGHUP, 129, "SIGHUP")]
)
def test_a_signal_during_docs_build_removes_the_half_built_site(tmp_path, signum, code, words):
    before = snapshot(tmp_path)
    proc = _popen(["docs", "build", "--input-size", "188", "--depth", "2"], tmp_path)
    _wait_for(lambda: any(p.name.startswith(".site.building-") for p in tmp_path.iterdir()), proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert words in one_line(err)
    assert changed(before, snapshot(tmp_path)) == set()


@pytest.mark.slow
def test_sigterm_to_docs_serve_removes_mkdocs_copy(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = _popen(["docs", "serve", "--port", str(port), "--input-size", "188", "--depth", "2"], tmp_path,
                  env={"TMPDIR": str(tmp)})  # fmt: skip
    _wait_for(lambda: any(tmp.glob("**/mkdocs_*")), proc)  # MkDocs' copy of the site exists
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "SIGTERM" in err.strip().splitlines()[-1]
    assert list(tmp.iterdir()) == []


def test_the_work_done_a_signal_in_teardown_exits_with_the_commands_status(tmp_path):
    # After the command returned, a Ctrl-C during the interpreter's teardown ends the process with its status.
    script = (
        "import os, signal, sys, time\n"
        "from unet_explain import interrupts\n"
        "interrupts.install()\n"
        "interrupts.finish(0)\n"
        "print('done', flush=True)\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "time.sleep(30)\n"
        "sys.exit(5)\n"
    )
    done = run_script(script, tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "done\n", "")


@pytest.mark.keras
def test_ctrl_c_after_verify_printed_everything_exits_0(tmp_path):
    proc = _popen(["verify", *SMALL], tmp_path)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.lstrip().startswith("total"):
            break
    time.sleep(0.5)  # let the last line's write and main()'s return finish: what follows is the teardown
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert err == ""


@pytest.mark.keras
def test_verify_with_stderr_closed_still_works(tmp_path):
    done = subprocess.run(
        f"{sys.executable} -m unet_explain verify {' '.join(SMALL)} 2>&-", shell=True, cwd=tmp_path,
        capture_output=True, text=True, env=os.environ | {"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0
    assert "agree" in done.stdout


@pytest.mark.keras
def test_a_users_keras_backend_does_not_matter(tmp_path):
    done = cli("verify", *SMALL, cwd=tmp_path, env={"KERAS_BACKEND": "jax"})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_a_bogus_matplotlib_backend_does_not_matter(tmp_path):
    done = cli("weight-map", "--demo", "-o", "w.png", cwd=tmp_path, env={"MPLBACKEND": "bogus"})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert (tmp_path / "w.png").read_bytes().startswith(b"\x89PNG")


def test_a_deleted_working_folder_is_bad_input(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    proc = subprocess.run(
        ["sh", "-c", f'cd "{gone}" && rmdir "{gone}" && exec "$0" -m unet_explain audit missing.keras', sys.executable],
        capture_output=True, text=True, env=os.environ | {"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "current folder no longer exists" in one_line(proc.stderr)


@pytest.mark.parametrize(
    ("argv", "code", "fragment"),
    [
        (["docs", "build", "-d", "d" * 300], 2, "300 bytes long, above this file system's limit"),
        (["docs", "build", "--base-filters", "4096"], 2, "building the site's Keras models needs about"),
        (["docs", "build", "--depth", "6", "--input-size", "99964"], 2, "above the memory budget"),
        (["table", "--input-size", "9" * 5000], 2, "(5,000 characters)"),
        (["audit", "m.keras", "--in-channels", "³"], 2, "--in-channels: must be a whole number of channels"),
        (["table", "--depth", "٣"], 2, "--depth: must be a whole number"),
        (["table", *(["stray"] * 100_000)], 2, "(and 99,995 more)"),
        (["diagram", "-f", "text", "--highlight", "x" * 100_000], 2, "(100,000 characters)"),
        (["diagram", "-o", "u.png", "-f", "text"], 2, "has suffix '.png' but --format is 'text'"),
        (["weight-map", "--demo", "--w0", "9" * 5000], 2, "--w0: must be a number such as 10"),
    ],
)
def test_bad_input_is_one_short_line(tmp_path, monkeypatch, capsys, argv, code, fragment):
    before = snapshot(tmp_path)
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, *argv)
    assert status == code
    line = one_line(err)
    assert fragment in line
    assert len(line) < 600
    assert "_arg" not in line and "\x1b" not in line
    assert changed(before, snapshot(tmp_path)) == set()


def test_an_escape_sequence_in_a_file_name_is_shown_escaped(tmp_path, monkeypatch, capsys):
    name = "u\x1b]2;pwned\x07.txt"
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "diagram", "-f", "text", "-o", name)
    assert code == 0, err
    assert "\x1b" not in out and "\\x1b" in out
    assert (tmp_path / name).exists()


@pytest.mark.parametrize("name", ["\x1b[31mred.svg", "a\nb.svg"])
def test_the_figure_command_shows_a_control_character_escaped(tmp_path, monkeypatch, capsys, name):
    # found by the second hostile pass: diagram escaped the name, figure printed it raw
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "figure", "conv3x3", "-o", name)
    assert code == 0, err
    assert out.count("\n") == 1 and "\x1b" not in out
    assert (tmp_path / name).exists()


def test_a_socket_is_called_a_socket(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "sock"))
        code, _, err = run(capsys, "diagram", "-f", "dot", "-o", "sock")
    assert code == 2
    assert "it is a socket" in one_line(err)


def test_warnings_are_no_noise_on_success(tmp_path):
    # A label image whose float check divides: numpy's RuntimeWarnings must not reach the user.
    import numpy as np

    labels = np.zeros((32, 32))
    labels[4:10, 4:10], labels[12:20, 12:20] = 1.0, 2.0
    np.save(tmp_path / "f.npy", labels)
    done = cli("weight-map", "--labels", "f.npy", cwd=tmp_path, env={"PYTHONWARNINGS": ""})
    assert done.returncode == 0
    assert done.stderr == ""


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["fit", "--memory", "-1GiB"], "--memory: must be between 1 byte and 1 EiB; got '-1GiB'"),
        (["tile", "--image", "-5x10"], "--image: must be a positive whole number"),
        (["audit", "x.keras", "--input-size", "0"], "--input-size must be between 1 and"),
    ],
)
def test_negative_looking_values_reach_their_check(tmp_path, monkeypatch, capsys, argv, fragment):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert fragment in one_line(err)


def test_with_stdout_closed_a_usage_error_still_wins(tmp_path):
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    bad = subprocess.run(f"{sys.executable} -m unet_explain table --input-size 570 >&-", shell=True, cwd=tmp_path,
                         capture_output=True, text=True, env=env)  # fmt: skip
    assert bad.returncode == 2 and "570 is not valid" in one_line(bad.stderr)
    good = subprocess.run(f"{sys.executable} -m unet_explain table >&-", shell=True, cwd=tmp_path,
                          capture_output=True, text=True, env=env)  # fmt: skip
    assert good.returncode == 1 and "standard output: it is closed" in one_line(good.stderr)


def test_a_ctrl_c_while_the_command_loads_is_one_line(tmp_path):
    script = (
        "import os, signal, sys, time\n"
        "sys.argv[0] = 'unet-explain'\n"
        "from unet_explain import interrupts\n"
        "interrupts.guard_startup()\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "time.sleep(30)\n"
    )
    done = run_script(script, tmp_path)
    assert (done.returncode, done.stderr) == (130, "unet-explain: interrupted\n")
    library = subprocess.run([sys.executable, "-c", "import signal, unet_explain; "
                              "assert signal.getsignal(signal.SIGINT) is signal.default_int_handler"],
                             cwd=tmp_path, env=os.environ | {"PYTHONPATH": str(ROOT)})  # fmt: skip
    assert library.returncode == 0  # importing the library changes no handler


def test_a_signal_swallowed_by_a_finalizer_is_delivered_again(tmp_path):
    # The hostile pass's docs serve: SIGTERM landed in matplotlib's weakref callback, Python swallowed it, and
    # the server kept serving. Now the signal is sent again and stops the process after its clean-up.
    script = (
        "import gc, os, signal, sys, time, weakref\n"
        "from unet_explain import interrupts\n"
        "interrupts.install()\n"
        "class Thing:\n"
        "    pass\n"
        "thing = Thing()\n"
        "weakref.finalize(thing, lambda: os.kill(os.getpid(), signal.SIGTERM) or time.sleep(0.2))\n"
        "try:\n"
        "    del thing\n"
        "    gc.collect()\n"
        "    time.sleep(30)\n"
        "except KeyboardInterrupt as err:\n"
        "    sys.exit(interrupts.exit_status(err))\n"
    )
    done = run_script(script, tmp_path)
    assert done.returncode == 143, done.stderr
    assert "Exception ignored" not in done.stderr


def test_matplotlib_notes_about_an_unwritable_config_folder_stay_quiet(tmp_path):
    # matplotlib warns through logging while it is imported; the CLI quiets it just before that import
    done = cli("figure", "conv3x3", "-o", "c.svg", cwd=tmp_path, env={"MPLCONFIGDIR": "/proc/unet-explain-none"})
    assert done.returncode == 0 and done.stderr == "", done.stderr
    bare = subprocess.run(
        [sys.executable, "-c", "import matplotlib"], capture_output=True, text=True,
        env=os.environ | {"MPLCONFIGDIR": "/proc/unet-explain-none"},
    )  # fmt: skip
    assert "Matplotlib" in bare.stderr  # the note the CLI keeps quiet does exist


def _error_made_of_an_interrupt(error: type[BaseException], signum: signal.Signals):
    """A command whose C code turns the interrupt raised inside it into ``error``, as pybind11 does for a
    KeyboardInterrupt in TensorFlow's extension modules ("ImportError: initialization failed")."""

    def command(argv: object) -> int:
        try:
            signal.raise_signal(signum)
            time.sleep(5)
        except KeyboardInterrupt:
            raise error("initialization failed") from None
        return 0

    return command


@pytest.mark.parametrize(
    ("signum", "status", "words"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated (SIGTERM)")],
)
@pytest.mark.parametrize("error", [ImportError, RuntimeError, SystemError])
def test_an_interrupt_turned_into_another_error_is_still_one_line(monkeypatch, capsys, error, signum, status, words):
    from unet_explain import interrupts
    from unet_explain.cli import boundary

    monkeypatch.setattr(boundary, "_run_command", _error_made_of_an_interrupt(error, signum))
    monkeypatch.setattr(interrupts, "_received", [])  # this worker's later in-process commands see none of it
    monkeypatch.setattr(interrupts, "_seen", [])
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        assert main([]) == status
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    assert capsys.readouterr().err == f"unet-explain: {words}\n"


def test_the_same_error_without_an_interrupt_keeps_its_traceback(monkeypatch):
    from unet_explain.cli import boundary

    def command(argv: object) -> int:
        raise ImportError("initialization failed")

    monkeypatch.setattr(boundary, "_run_command", command)
    with pytest.raises(ImportError, match="initialization failed"):
        main([])
