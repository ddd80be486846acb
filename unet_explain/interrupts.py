"""SIGTERM and SIGHUP handled like Ctrl-C: the same clean-up, then the shell's status for the signal.

Python turns SIGINT into :class:`KeyboardInterrupt`, so every ``finally`` and
``except BaseException`` on the way up removes what it made (temporary files,
a half-built site, MkDocs' served copy). A ``kill`` (SIGTERM) or a closed
terminal (SIGHUP) would otherwise end the process on the spot and leave those
behind. :func:`install` makes both raise :class:`Terminated`, a
``KeyboardInterrupt``, so the same clean-up runs; the CLI then exits with
``128 + signal number`` (143, 129), as a shell reports a process killed by it.

:func:`deferred` holds these signals back for a few system calls that must not
be cut in half (writing a hard-linked file in place, and restoring it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

#: Signals handled like Ctrl-C, with the words the CLI prints.
HANDLED = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated (SIGTERM)", signal.SIGHUP: "hung up (SIGHUP)"}


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by SIGTERM or SIGHUP (a KeyboardInterrupt, so clean-up code sees it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(HANDLED.get(signal.Signals(signum), f"signal {signum}"))
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """``128 + signal number``: 143 for SIGTERM, 129 for SIGHUP."""
        return 128 + self.signum


_received: list[int] = []
_seen: list[int] = []  # every handled signal since install(), Ctrl-C included (see interrupted_by)


def _raise(signum: int, _: FrameType | None) -> None:
    _received.append(signum)
    _seen.append(signum)
    raise Terminated(signum)


def _interrupt(signum: int, _: FrameType | None) -> None:
    # Python's own Ctrl-C (a KeyboardInterrupt), remembered: see interrupted_by.
    _seen.append(signum)
    raise KeyboardInterrupt


def interrupted_by() -> KeyboardInterrupt | None:
    """The interrupt a signal raised during the command, if one came.

    C code can turn the KeyboardInterrupt raised inside it into another error: an extension module
    interrupted while it initialises (TensorFlow's) fails with "ImportError: initialization failed", and
    a class body cut short in matplotlib with a RuntimeError. That error is then the interrupt's doing.
    """
    if not _seen:
        return None
    return KeyboardInterrupt() if _seen[-1] == signal.SIGINT else Terminated(_seen[-1])


def raise_received() -> None:
    """Raise :class:`Terminated` again for a signal some code caught as a Ctrl-C and returned from (MkDocs' serve)."""
    if _received:
        raise Terminated(_received[-1])


def _during_startup(signum: int, _: FrameType | None) -> None:
    # Nothing is made yet while the command line's modules load: say it, and stop with the shell's status.
    with contextlib.suppress(OSError):
        os.write(2, f"unet-explain: {HANDLED.get(signal.Signals(signum), 'interrupted')}\n".encode())
    os._exit(128 + signum)


def guard_startup() -> None:
    """For the command only (``unet-explain``, ``python -m unet_explain``): a signal while its modules load ends
    it in one line instead of a traceback from the middle of an import. :func:`install` takes over."""
    command = os.path.basename(sys.argv[0]) == "unet-explain" if sys.argv else False
    command = command or list(getattr(sys, "orig_argv", [])[1:3]) == ["-m", "unet_explain"]
    if not command or threading.current_thread() is not threading.main_thread():
        return
    for signum in HANDLED:
        if signal.getsignal(signum) == signal.default_int_handler or signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, _during_startup)


_previous_hook = sys.unraisablehook


def _redeliver(unraisable: Any) -> None:
    """An interrupt raised inside a finalizer (a weakref callback, a ``__del__``) is swallowed by Python: send
    the signal again, so it arrives outside that finalizer and stops the command as it should."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        signum = getattr(unraisable.exc_value, "signum", signal.SIGINT)
        # From another thread, a moment later: sent from here it would be raised inside the finalizer again.
        threading.Timer(0.05, os.kill, (os.getpid(), signum)).start()
        return
    _previous_hook(unraisable)


def install() -> None:
    """Make SIGTERM and SIGHUP raise :class:`Terminated`, and Ctrl-C a remembered KeyboardInterrupt (main thread
    only; ignored signals stay ignored)."""
    if threading.current_thread() is not threading.main_thread():
        return
    _seen.clear()
    if signal.getsignal(signal.SIGINT) in (_during_startup, signal.default_int_handler):
        signal.signal(signal.SIGINT, _interrupt)
    if sys.unraisablehook is not _redeliver:
        global _previous_hook
        _previous_hook = sys.unraisablehook
        sys.unraisablehook = _redeliver
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) != signal.SIG_IGN:  # nohup: a hang-up the user chose to ignore stays ignored
            signal.signal(signum, _raise)


def exit_status(err: KeyboardInterrupt) -> int:
    """The exit status for an interrupt: 130 for Ctrl-C, 128 + N for a handled signal N."""
    return err.exit_code if isinstance(err, Terminated) else 128 + signal.SIGINT


def message(err: KeyboardInterrupt) -> str:
    """``interrupted``, ``terminated (SIGTERM)`` or ``hung up (SIGHUP)``."""
    return HANDLED.get(signal.Signals(err.signum), "interrupted") if isinstance(err, Terminated) else "interrupted"


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends, then act on the first that came.

    Only the main thread can set handlers; elsewhere the block runs unprotected.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {signum: signal.getsignal(signum) for signum in HANDLED}

    def hold(signum: int, _: FrameType | None) -> None:
        caught.append(signum)

    for signum in HANDLED:
        if previous[signum] != signal.SIG_IGN:
            signal.signal(signum, hold)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if handler is not None:  # None: set outside Python, cannot be put back from here
                signal.signal(signum, handler)
        if caught:
            signal.raise_signal(caught[0])


def finish(code: int) -> None:
    """The work is done and written: from now on a handled signal ends the process at once with ``code``.

    The interpreter's teardown (TensorFlow's threads and caches) can take seconds; a Ctrl-C then must not turn
    a finished command into a failure, nor wait.
    """
    if threading.current_thread() is not threading.main_thread():
        return

    def leave(signum: int, _: FrameType | None) -> None:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os._exit(code)

    for signum in HANDLED:
        if signal.getsignal(signum) != signal.SIG_IGN:
            signal.signal(signum, leave)
