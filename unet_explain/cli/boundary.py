"""The one error boundary: run a command and turn every expected failure into one line and an exit status.

Exit status: 0 ok, 1 a runtime or I/O failure, 2 bad usage or input, 130 Ctrl-C,
143 SIGTERM, 129 SIGHUP (handled like Ctrl-C: the same clean-up first, see
:mod:`unet_explain.interrupts`). Once a command has done its work and written
it, a signal during the interpreter's teardown (TensorFlow's can take seconds)
ends the process at once with the command's status. The library raises
:class:`~unet_explain.errors.UNetExplainError` (with its own status); the system
raises ``OSError``, ``MemoryError`` and TensorFlow's runtime errors. All become
``unet-explain: error: ...`` on stderr here, once. Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn

from unet_explain import interrupts
from unet_explain.cli.ascii import ascii_fallback
from unet_explain.cli.console import say
from unet_explain.cli.options import PROG, Handler
from unet_explain.cli.parser import COMMAND_NAMES, build_parser, command_names, command_parser
from unet_explain.errors import ConfigError, UNetExplainError, plain, shown


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 1 runtime or I/O failure, 2 bad usage or input, 130 Ctrl-C).

    This is the one place where failures become one line on stderr: the
    library's :class:`UNetExplainError` (with its own exit status), an
    ``OSError`` (what failed, the path, the system's reason), a broken or full
    standard output, running out of memory, TensorFlow's runtime errors and
    Ctrl-C. Anything else is a bug and keeps its traceback.
    """
    _hold_closed_descriptors()
    ascii_fallback()
    _quiet_environment()
    if sys.stdout is None:  # started with stdout closed (``>&-``): Python leaves no stream at all
        sys.stdout = _ClosedStdout()  # a usage error still wins (exit 2); the first write fails (exit 1)
    interrupts.install()
    try:
        return _run_command(argv)
    except KeyboardInterrupt as err:
        say(interrupts.message(err))
        return interrupts.exit_status(err)
    except BaseException:
        interrupt = interrupts.interrupted_by()
        if interrupt is None:
            raise  # a bug: keep the traceback
        # A Ctrl-C that C code turned into another error (an extension module cut off while it loads).
        say(interrupts.message(interrupt))
        return interrupts.exit_status(interrupt)


def run() -> NoReturn:
    """Console-script entry point."""
    code = main()
    interrupts.finish(code)
    if any(name == "tensorflow" or name.startswith("tensorflow.") for name in sys.modules):
        # TensorFlow's C++ teardown runs after Python has put the default signal handlers back, so a Ctrl-C
        # there killed a finished command (status 130, no message). Python's own exit work runs, then the
        # process ends with the command's status without that teardown. A Ctrl-C in the middle of
        # ``import tensorflow`` takes "tensorflow" out of sys.modules but leaves its loaded parts (and their
        # teardown) behind, so any of them counts.
        import atexit

        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, OSError, ValueError):
                stream.flush()
        os._exit(code)
    sys.exit(code)


def _hold_closed_descriptors() -> None:
    """A closed stdout or stderr (``>&-``, ``2>&-``) gets /dev/null on its descriptor, so that no file opened
    later lands there (and TensorFlow's C++ notes go nowhere).

    Python leaves ``sys.stdout``/``sys.stderr`` as None then: :func:`say` stays silent (a closed stderr only
    hides errors), and a closed stdout is :class:`_ClosedStdout`.
    """
    for fd in (1, 2):
        try:
            os.fstat(fd)
        except OSError:
            held = os.open(os.devnull, os.O_WRONLY)
            if held != fd:
                os.dup2(held, fd)
                os.close(held)


class _ClosedStdout(io.TextIOBase):
    """Standard output that was closed before the process started: every write fails, in one line, with exit 1."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not text:
            return 0
        raise OSError(errno.EBADF, "it is closed")

    def fileno(self) -> int:
        raise OSError(errno.EBADF, "it is closed")


def _quiet_environment() -> None:
    """No noise on success: the CLI draws into files (matplotlib's Agg, whatever MPLBACKEND says), and Python's
    warnings and matplotlib's notes (a read-only HOME) are for developers, not for a command's user."""
    os.environ["MPLBACKEND"] = "Agg"
    if not sys.warnoptions:  # python -W or PYTHONWARNINGS still show them
        warnings.simplefilter("ignore")
    if _QuietMatplotlib not in sys.meta_path:
        sys.meta_path.insert(0, _QuietMatplotlib)


class _QuietMatplotlib:
    """Quiets matplotlib's logger just before matplotlib is first imported (its notes about a read-only
    HOME come during that import). Done on demand because ``logging`` costs the table and the diagram,
    which never load matplotlib, a few milliseconds a run."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> None:
        if name == "matplotlib":
            import logging

            logging.getLogger("matplotlib").setLevel(logging.ERROR)
        return None  # the import itself goes on as usual


def _run_command(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # A first word naming a command needs that command's parser only; anything else (no command,
    # --help, --version, a typo) gets the full parser, which lists every command.
    parser = build_parser(argv[0] if argv and argv[0] in COMMAND_NAMES else None)
    for i, arg in enumerate(argv[:-1]):
        # argparse takes '-1GiB' for a flag; glued to its option it is a value, checked like any other
        if arg == "--max-memory" and argv[i + 1][:1] == "-" and argv[i + 1][1:2].isdigit():
            argv[i : i + 2] = [f"--max-memory={argv[i + 1]}"]
            break
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # named by the command's own parser, so the advice is 'unet-explain table --help'
            listed = plain(" ".join(extra[:5]), 200) + (f" (and {len(extra) - 5:,} more)" if len(extra) > 5 else "")
            command_parser(parser, getattr(args, "command", None)).error(f"unrecognized arguments: {listed}")
    except SystemExit as exit_:  # --help, --version, or a usage error already reported in one line
        status = exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 2
        return _flushed(status)
    except OSError as err:  # printing --help or --version failed
        return _output_failed(err)
    if getattr(args, "handler", None) is None:
        say(f"error: give a command: {', '.join(command_names(parser))} (see '{PROG} --help')")
        return 2
    try:
        handler: Handler = args.handler
        code = handler(args)
        sys.stdout.flush()  # inside the guard: a full disk or a closed pipe is reported here, once
        return code
    except ConfigError as err:
        say(f"error: {err.with_flag_names()}")
        return err.exit_code
    except UNetExplainError as err:
        say(f"error: {err}")
        return err.exit_code
    except SystemExit as exit_:
        if not _is_rich_broken_pipe(exit_):
            raise
        return 0  # rich (also inside Keras's summary) saw the reader go away and already silenced stdout
    except BrokenPipeError:
        # The reader went away (``| head -1``): that is not a failure of ours. Point stdout at /dev/null
        # so that Python's own flush at exit does not fail again.
        _silence_stdout()
        return 0
    except OSError as err:
        if _cwd_gone():
            say("error: the current folder no longer exists (deleted?); cd to an existing folder and run it again")
            return 2
        say(f"error: {_os_error_text(err)}")
        if err.filename is None:
            _silence_stdout()
        return 1
    except MemoryError:
        say("error: out of memory; try a smaller --input-size or --base-filters")
        return 1
    except Exception as err:
        if not type(err).__module__.startswith("tensorflow") or interrupts.interrupted_by():
            raise  # a bug (keep the traceback), or an interrupt's doing (main says so)
        first = plain(str(err).strip().splitlines()[0], 200) if str(err).strip() else ""
        say(f"error: TensorFlow failed: {type(err).__name__}: {first}")
        return 1


def _flushed(status: int) -> int:
    """``status`` once what argparse printed (help, version) has reached standard output; 1 if it could not."""
    try:
        sys.stdout.flush()  # a full disk must not look like success
    except OSError as err:
        return _output_failed(err)
    return status


def _output_failed(err: OSError) -> int:
    """A failed write to standard output: a closed pipe is no failure of ours, anything else is one line and 1."""
    _silence_stdout()
    if isinstance(err, BrokenPipeError):
        return 0
    say(f"error: {_os_error_text(err)}")
    return 1


def _is_rich_broken_pipe(exit_: SystemExit) -> bool:
    """rich answers a closed pipe with ``SystemExit(1)`` from ``Console.on_broken_pipe``; that is no failure."""
    frame = exit_.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and frame.tb_frame.f_code.co_name == "on_broken_pipe"


def _cwd_gone() -> bool:
    try:
        os.getcwd()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


def _os_error_text(err: OSError) -> str:
    reason = plain(err.strerror or str(err), 200)
    if err.filename is not None:
        return f"cannot access {shown(str(err.filename))}: {reason}"
    if err.errno == errno.EBADF and isinstance(sys.stdout, _ClosedStdout):
        return "cannot write to standard output: it is closed"
    code = errno.errorcode.get(err.errno or 0, "")
    # File outputs carry their path (render/output.py); a nameless write failure is the standard output's.
    what = "cannot write to standard output" if err.errno in _WRITE_ERRORS else "system error"
    return f"{what}: {reason}" + (f" ({code})" if code else "")


_WRITE_ERRORS = {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG, errno.EPIPE, errno.EBADF}


def _silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null so that the interpreter's final flush cannot fail."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
