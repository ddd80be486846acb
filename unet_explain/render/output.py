"""Write rendered output to files: the format from the suffix, safely.

Every file the package writes (``diagram``, ``tile -o``, ``weight-map -o``,
``diagram --format text -o``, the docs cache) goes through :func:`atomic_write`,
which follows these rules, so that nothing the user did not ask to change is
changed, and nothing is left half-written:

* The bytes are complete in memory before the target is touched; a failed
  render (no Graphviz, a timeout, an interrupt) never reaches the disk.
* A **regular file** (or a new name) is written to a temporary file in the same
  folder and renamed over the target only when complete, so a full disk or a
  Ctrl-C leaves the old file as it was and no temporary file behind. The
  replacement keeps the old file's mode (and owner, when allowed); a new file
  gets the mode ``umask`` gives (``0o666 & ~umask``), like any other program's.
* A **symbolic link** is resolved and its target written as above: the link
  stays a link.
* A **hard-linked** file (more than one name) cannot be renamed over without
  splitting the link, so it is written in place, and every name keeps the old
  content on any failure: the old bytes are kept in memory, the room for the
  new ones is reserved in the file itself first (``posix_fallocate``; a full
  disk fails here, before a byte changed), and if writing still fails the old
  bytes are put back. Signals wait until the file is whole again.
* A folder that is **append-only** (``chattr +a``) lets a temporary file be
  made but never renamed or removed: it is refused before anything is made.
* Bytes from an external program (Graphviz) are checked to be **complete** (an
  SVG parses, a PNG ends with its IEND chunk, a PDF with ``%%EOF``) before
  anything is replaced.
* A **device, FIFO or socket** (``/dev/null``, ``/dev/full``, a named pipe) is
  written through directly and never replaced; a FIFO with no reader is an
  error, not a hang. ``-`` (or ``/dev/stdout``) means the process's standard
  output, written through the stream already open.
* The temporary name is derived from the target's so that it never exceeds
  the file system's name limit (255 bytes), however long a valid name is.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from unet_explain import interrupts
from unet_explain.errors import MissingToolError, OutputError, ToolError, plain, shown

GRAPHVIZ_FORMATS = ("png", "svg", "pdf")
DIAGRAM_FORMATS = (*GRAPHVIZ_FORMATS, "dot")
#: What the matplotlib pictures (tile -o, weight-map -o) can be saved as.
IMAGE_FORMATS = ("png", "svg", "pdf")
INSTALL_GRAPHVIZ = "install Graphviz, e.g. 'sudo apt-get install graphviz' (or run 'make run', which does it)"

#: Seconds Graphviz may take to lay out and render a graph before it is stopped.
GRAPHVIZ_TIMEOUT = 60.0

#: Largest old content of a hard-linked output kept in memory to put back on a failure (256 MiB).
IN_PLACE_LIMIT = 256 * 2**20

#: ``FS_IOC_GETFLAGS`` and its append-only and immutable bits (linux/fs.h).
_FS_IOC_GETFLAGS = 0x80086601
_FS_APPEND_FL = 0x20
_FS_IMMUTABLE_FL = 0x10

#: The file system's limit on one file name, in bytes (Linux: 255); used when the folder cannot be asked.
NAME_MAX = 255

STDOUT = "-"
#: Names of the process's own standard streams: written through the open stream, never opened anew
#: (``-o /dev/stdout > out.dot`` must append to what the shell redirected, not replace the file).
STREAMS = {"-": 1, "/dev/stdout": 1, "/dev/fd/1": 1, "/proc/self/fd/1": 1}
STREAMS |= {"/dev/stderr": 2, "/dev/fd/2": 2, "/proc/self/fd/2": 2}


def format_from_path(path: Path, explicit: str | None, allowed: tuple[str, ...]) -> str:
    """The output format: ``explicit`` if given, else the file's suffix."""
    fmt = explicit or Path(path).suffix.lower().lstrip(".")
    if fmt not in allowed:
        if explicit:
            raise OutputError(f"format {_shown(explicit)} is not one of {', '.join(allowed)}", exit_code=2)
        got = f"its suffix {_shown(Path(path).suffix)}" if Path(path).suffix else "a name without a suffix"
        raise OutputError(
            f"output {_shown(path)}: cannot tell the format from {got}; "
            f"end the name with one of {', '.join('.' + a for a in allowed)}, or pass --format",
            exit_code=2,
        )
    return fmt


def check_output_path(text: str, example: str, *, stdout_ok: bool = True) -> Path:
    """Refuse an output path that cannot be written, before any work is done; return it as a Path.

    The rules: not empty; a trailing slash names a folder, not a file; not an existing folder;
    its folder (through a symlink, its target's folder) exists. ``example`` is a file name that
    fits the command (``pooling.svg``), shown in the advice. ``stdout_ok=False`` refuses ``-`` and
    the names of standard output, for commands whose report already goes there.
    """
    if not text:
        raise OutputError(f"output '': the path is empty; give a file name such as {example!r}", exit_code=2)
    if text in STREAMS:
        if STREAMS[text] == 1 and not stdout_ok:
            raise OutputError(
                f"output {_shown(text)}: standard output already carries the report; "
                f"give a file name such as {example!r}",
                exit_code=2,
            )
        return Path(text)
    if text.endswith(("/", os.sep)):
        raise OutputError(
            f"output {_shown(text)} ends with a slash, so it names a folder; to write a file, drop the slash "
            f"(e.g. {_shown(text.rstrip('/' + os.sep) or example)})",
            exit_code=2,
        )
    path = Path(text)
    info = _stat_output(path, example)
    target = Path(os.path.realpath(path))
    if info is None and not target.parent.is_dir():
        named = target.parent == path.parent.resolve()
        where = f"the folder {_shown(path.parent)}" if named else f"the link's target folder {_shown(target.parent)}"
        raise OutputError(f"output {_shown(text)}: {where} does not exist; create it first", exit_code=2)
    return path


def output_format(path: Path, explicit: str | None, allowed: tuple[str, ...], *, format_flag: bool = True) -> str:
    """The format of an output file: the suffix and ``--format`` must agree when both are given.

    ``format_flag=False`` for commands without a ``--format`` for the file (tile, weight-map): the
    advice then names only the suffixes.
    """
    suffix = path.suffix.lower().lstrip(".")
    if explicit and suffix and suffix != explicit:
        raise OutputError(
            f"output {_shown(path)} has suffix {_shown(path.suffix)} but --format is {_shown(explicit)}; "
            "make them agree",
            exit_code=2,
        )
    if explicit or suffix in allowed:
        return format_from_path(path, explicit, allowed)
    ends = ", ".join("." + a for a in allowed)
    if suffix:
        got = f"its suffix {_shown(path.suffix)}"
    elif path.name.startswith(".") and path.name[1:].lower() in allowed:
        got = f"a hidden file name ({_shown(path.name)} has no suffix)"
    else:
        got = "a name without a suffix"
    way = f"end the name with one of {ends}" + (", or pass --format" if format_flag else "")
    raise OutputError(f"output {_shown(path)}: cannot tell the format from {got}; {way}", exit_code=2)


def check_text_suffix(path: Path) -> None:
    """``--format text`` writes text: a name ending in another format's suffix (``u.png``) is a mistake."""
    suffix = path.suffix.lower().lstrip(".")
    if str(path) not in STREAMS and suffix in (*DIAGRAM_FORMATS, *IMAGE_FORMATS):
        raise OutputError(
            f"output {_shown(path)} has suffix {_shown(path.suffix)} but --format is 'text'; make them agree "
            f"(e.g. {_shown(path.with_suffix('.txt').name)}, or --format {suffix})",
            exit_code=2,
        )


def require_dot(prog: str = "dot") -> str:
    """Path of a Graphviz program (``dot``, ``neato``...), or a :class:`MissingToolError` saying how to install it."""
    found = shutil.which(prog)
    if found is None:
        raise MissingToolError(f"Graphviz's {prog!r} program was not found on PATH; {INSTALL_GRAPHVIZ}")
    return found


def render_graph(graph: Any, fmt: str, prog: str = "dot", timeout: float | None = None) -> bytes:
    """Render a pydot graph (or DOT source) to ``png``, ``svg`` or ``pdf`` bytes with a Graphviz program.

    Graphviz runs as a child process with a time limit (:data:`GRAPHVIZ_TIMEOUT`
    unless ``timeout`` is given) in its own process group, so that a stuck
    layout or a Ctrl-C stops it and everything it started. Its output is checked
    before anyone writes it: an empty result is an error, not an empty file.
    """
    exe = require_dot(prog)
    source = graph if isinstance(graph, str) else str(graph.to_string())
    limit = GRAPHVIZ_TIMEOUT if timeout is None else timeout
    with subprocess.Popen(
        [exe, f"-T{fmt}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(source.encode("utf-8"), timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ToolError(
                f"Graphviz's {prog!r} did not finish rendering {fmt} within {limit:g} s and was stopped; "
                "try --format dot and render it yourself"
            ) from None
        except BaseException:
            _kill_group(proc)
            raise
    if proc.returncode != 0:
        lines = err.decode("utf-8", "replace").strip().splitlines()
        why = plain(lines[-1], 200) if lines else f"exit status {proc.returncode}"
        raise ToolError(f"Graphviz's {prog!r} could not render {fmt}: {why}")
    if not out:
        raise ToolError(f"Graphviz's {prog!r} exited without error but produced no {fmt} output; nothing was written")
    problem = incomplete(out, fmt)
    if problem:
        raise ToolError(
            f"Graphviz's {prog!r} exited without error but its {fmt} output is {problem}; nothing was written"
        )
    return out


def incomplete(data: bytes, fmt: str) -> str | None:
    """Why ``data`` is not a whole ``png``/``svg``/``pdf`` file (None: it is, or the format has no check)."""
    if fmt == "png":
        if not data.startswith(b"\x89PNG\r\n\x1a\n"):
            return "not a PNG (no PNG signature)"
        if data[-12:] != b"\x00\x00\x00\x00IEND\xaeB`\x82":
            return "cut short (no IEND chunk at its end)"
    elif fmt == "pdf":
        if not data.startswith(b"%PDF-"):
            return "not a PDF (no %PDF header)"
        if b"%%EOF" not in data[-1024:]:
            return "cut short (no %%EOF at its end)"
    elif fmt == "svg":
        from xml.etree import ElementTree

        try:
            root = ElementTree.fromstring(data)
        except ElementTree.ParseError as err:
            return f"not well-formed SVG ({err})"
        if not root.tag.endswith("svg"):
            return f"not SVG (its root element is <{root.tag}>)"
    return None


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError, ValueError):
        proc.communicate()


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return NAME_MAX


def _temp_name(target: Path, limit: int) -> str:
    """``.NAME.XXXXXXXX.tmp``, with NAME shortened (on a character boundary) to stay within ``limit`` bytes."""
    tag = f".{os.urandom(4).hex()}.tmp"  # what secrets.token_hex does, without importing hashlib
    room = limit - 1 - len(tag.encode())
    name = target.name
    while len(name.encode("utf-8", "surrogateescape")) > room:
        name = name[:-1]
    return f".{name}{tag}"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fail(path: Path | str, err: OSError) -> OutputError:
    return OutputError(f"cannot write output {_shown(path)}: {err.strerror or err}")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_stream(data: bytes, fd: int) -> None:
    text = sys.stdout if fd == 1 else sys.stderr
    stream = getattr(text, "buffer", None)
    if stream is None:
        raise OutputError("cannot write binary output to this standard stream; give a file name with -o")
    text.flush()
    stream.write(data)
    stream.flush()


def _write_through(path: Path, data: bytes) -> None:
    """Write into an existing device, FIFO or socket without replacing it."""
    if stat.S_ISSOCK(os.stat(path).st_mode):
        raise OutputError(
            f"cannot write output {_shown(path)}: it is a socket, which cannot be opened as a file; "
            "give a file name, a pipe or a device",
            exit_code=2,
        )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as err:
        if err.errno == errno.ENXIO:
            raise OutputError(f"cannot write output {_shown(path)}: no process is reading this pipe") from None
        raise _fail(path, err) from None
    try:
        os.set_blocking(fd, True)
        _write_all(fd, data)
    except OSError as err:
        raise _fail(path, err) from None
    finally:
        os.close(fd)


def _check_folder_flags(target: Path) -> None:
    """Refuse a folder where a temporary file could be made but not renamed or removed (``chattr +a``)."""
    try:
        fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return  # the write itself will say why
    try:
        flags = int.from_bytes(fcntl.ioctl(fd, _FS_IOC_GETFLAGS, bytes(8))[:4], sys.byteorder)
    except OSError:
        return  # the file system keeps no such flags
    finally:
        os.close(fd)
    if flags & (_FS_APPEND_FL | _FS_IMMUTABLE_FL):
        kind = "append-only" if flags & _FS_APPEND_FL else "immutable"
        raise OutputError(
            f"cannot write output {_shown(target)}: its folder {_shown(target.parent)} is {kind} (chattr "
            f"{'+a' if kind == 'append-only' else '+i'}), so a file in it can be neither replaced nor removed "
            "safely; write it elsewhere"
        )


def _temp_file(target: Path, data: bytes, mode: int) -> Path:
    """A complete copy of ``data`` next to ``target`` (removed again on any failure)."""
    folder = target.parent
    _check_folder_flags(target)
    limit = _name_max(folder)
    for _ in range(100):
        tmp = folder / _temp_name(target, limit)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            continue
        except OSError as err:
            raise OutputError(f"cannot write output {_shown(target)} in {_shown(folder)}: {err.strerror}") from None
    else:  # pragma: no cover - 100 collisions of 32 random bits
        raise OutputError(f"cannot find a free temporary name in {_shown(folder)}")
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise _fail(target, err) from None
        raise
    return tmp


def _check_name_length(path: Path) -> None:
    if path.name and len(path.name.encode("utf-8", "surrogateescape")) > (limit := _name_max(path.parent)):
        raise OutputError(
            f"output {_shown(path)}: the file name is {len(path.name.encode())} bytes long, "
            f"above this file system's limit of {limit}; choose a shorter name",
            exit_code=2,
        )


def _stat_output(path: Path, example: str) -> os.stat_result | None:
    """What ``path`` is now (``None``: nothing yet); a path that cannot be a file to write is bad input."""
    _check_name_length(path)
    try:
        info: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as err:
        if err.errno == errno.ENOTDIR:
            raise OutputError(f"output {_shown(path)}: a part of the path is not a folder", exit_code=2) from None
        if err.errno in (errno.ENAMETOOLONG, errno.ELOOP):  # the path itself is the mistake
            raise OutputError(f"output {_shown(path)}: {err.strerror}", exit_code=2) from None
        raise _fail(path, err) from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputError(
            f"output {_shown(path)} is a folder; give a file name such as {_shown(path / example)}", exit_code=2
        )
    return info


def atomic_write(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` by the rules of this module's docstring; return the path written."""
    if str(path) in STREAMS:
        _write_stream(data, STREAMS[str(path)])
        return Path(STDOUT) if STREAMS[str(path)] == 1 else Path(path)
    path = Path(path)
    info = _stat_output(path, "unet.png")
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_through(path, data)
        return path
    # A regular file, a new name, or a symlink to either: write to the real file, never to the link.
    target = Path(os.path.realpath(path))
    if not target.parent.is_dir():
        named = target.parent == path.parent.resolve()
        where = f"the folder {_shown(path.parent)}" if named else f"the link's target folder {_shown(target.parent)}"
        raise OutputError(f"output {_shown(path)}: {where} does not exist; create it first", exit_code=2)
    if info is None:
        _replace(target, data, 0o666 & ~_umask(), None)
    elif info.st_nlink > 1:
        _write_in_place(target, data)
    else:
        _replace(target, data, stat.S_IMODE(info.st_mode), info)
    return path


def _replace(target: Path, data: bytes, mode: int, old: os.stat_result | None) -> None:
    tmp = _temp_file(target, data, mode)
    try:
        if old is not None and (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
            with contextlib.suppress(OSError):  # only root may give a file away; keep what we can
                os.chown(tmp, old.st_uid, old.st_gid)
                os.chmod(tmp, mode)  # chown clears set-id bits
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise _fail(target, err) from None
        raise


def _write_in_place(target: Path, data: bytes) -> None:
    """Write into a hard-linked file so that every name holds either the old bytes or the new ones."""
    try:
        fd = os.open(target, os.O_RDWR)
    except OSError as err:
        raise _fail(target, err) from None
    try:
        old_size = os.fstat(fd).st_size
        if old_size > IN_PLACE_LIMIT:
            raise OutputError(
                f"cannot write output {_shown(target)}: it has other hard links and holds "
                f"{old_size / 2**20:.0f} MiB, too much to keep for putting back after a failure; "
                "remove it first or choose another name"
            )
        old = os.pread(fd, old_size, 0)
        with interrupts.deferred():
            try:
                _reserve(fd, len(data), old_size)
                os.lseek(fd, 0, os.SEEK_SET)
                _write_all(fd, data)
                os.ftruncate(fd, len(data))
                os.fsync(fd)
            except BaseException as err:
                with contextlib.suppress(OSError):  # overwriting the old bytes needs no new room
                    _pwrite_all(fd, old)
                    os.ftruncate(fd, old_size)
                    os.fsync(fd)
                if isinstance(err, OSError):
                    raise _fail(target, err) from None
                raise
    except OSError as err:
        raise _fail(target, err) from None
    finally:
        os.close(fd)


def _reserve(fd: int, size: int, old_size: int) -> None:
    """Make the file take room for ``size`` bytes without changing its content (the tail it grows is zeros)."""
    if size <= old_size:
        return
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as err:
        os.ftruncate(fd, old_size)  # a partial reservation grew the file: shrinking needs no room
        if err.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
            raise


def _pwrite_all(fd: int, data: bytes) -> None:
    view, at = memoryview(data), 0
    while at < len(data):
        at += os.pwrite(fd, view[at:], at)


def _shown(path: Path | str) -> str:
    return shown(str(path))


def write_text(path: Path | str, text: str) -> Path:
    """Write UTF-8 text by the same rules."""
    return atomic_write(path, text.encode("utf-8"))
