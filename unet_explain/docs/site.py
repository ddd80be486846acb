"""Build or serve the documentation site (``unet-explain docs build|serve``) through MkDocs's API.

The sources (``mkdocs.yml`` and ``docs/``) live at the top of a clone; an
installed wheel carries a copy in ``unet_explain/_site_src/`` (put there by the
build step in ``setup.py``). Either way they are found from the package, never
from the working folder.

A build is safe for the folder it writes: it builds into a fresh folder next to
the target and swaps it in only when the build succeeded, so a failed or
interrupted build leaves the previous site as it was; it refuses a non-empty
folder that is not an earlier unet-explain site (every site it builds carries
the marker file :data:`MARKER`).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from unet_explain import interrupts
from unet_explain.config import UNetConfig, format_size_arg
from unet_explain.errors import ConfigError, MissingToolError, UNetExplainError
from unet_explain.errors import shown as shown_value

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BUNDLED = PACKAGE_DIR / "_site_src"
MARKER = ".unet-explain-site"
"""A file in every site this package builds: the sign that a folder may be replaced by a rebuild."""

EXTRA_KEY = "unet_explain"
"""``config.extra[EXTRA_KEY]["flags"]``: the site's config flags, as one string (read by :mod:`.hooks`)."""


class DocsError(UNetExplainError):
    """The site could not be built or served (exit status 1)."""

    exit_code = 1


#: Keras models of the site's network alive at once while the site builds (one freed while the next is built):
#: the pages build several (summary, verify, four variants, two variant gaps), one after another.
SITE_MODELS = 2

#: Bytes of the site folder's name kept in its temporary siblings' names (``.NAME.building-XXXXXXXX``).
_TEMP_NAME_BYTES = 100


#: The file in a temporary build folder that names the process building it.
_OWNER = ".unet-explain-builder"


def remove_stale_builds(target: Path) -> list[Path]:
    """Remove the temporary build folders next to ``target`` whose builder process is gone.

    A build stopped by SIGKILL (which no program can catch) leaves its ``.NAME.building-*``
    folder behind; the next build clears it. Only folders that name their builder are touched,
    and only when that process no longer exists, so a build running beside this one is safe.
    """
    removed = []
    for folder in target.parent.glob(_temp_prefix(target.name, "building") + "*"):
        try:
            pid = int((folder / _OWNER).read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            continue  # not one of ours, or not readable: leave it
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        except OSError:
            continue  # alive (owned by another user): leave it
    return removed


def _temp_prefix(name: str, kind: str) -> str:
    """``.NAME.building-`` with NAME cut (on a character boundary) so that the name fits any file system."""
    while len(name.encode("utf-8", "surrogateescape")) > _TEMP_NAME_BYTES:
        name = name[:-1]
    return f".{name}.{kind}-"


class SiteDirError(UNetExplainError):
    """``-d DIR`` names a folder the site must not be written to (exit status 2)."""

    exit_code = 2


def site_flags(config: UNetConfig) -> tuple[str, ...]:
    """The flags (in pairs) that select ``config``; only the settings that differ from the paper."""
    paper = UNetConfig()
    flags: list[str] = []
    for name, value in config.as_dict().items():
        if value == getattr(paper, name) or (name == "input_size" and tuple(value) == paper.input_size):
            continue
        text = format_size_arg(tuple(value)) if name == "input_size" else str(value)
        flags += ["--" + name.replace("_", "-"), text]
    return tuple(flags)


def find_config() -> Path:
    """``mkdocs.yml`` of the clone this package lives in, else the copy the wheel carries."""
    for root in (PACKAGE_DIR.parent, BUNDLED):
        candidate = root / "mkdocs.yml"
        if candidate.is_file() and (root / "docs").is_dir():
            return candidate
    raise DocsError(
        f"the site's sources (mkdocs.yml and docs/) are neither next to the package ({PACKAGE_DIR.parent}) nor in "
        f"it ({BUNDLED}); reinstall unet-explain from a wheel or a clone of the repository"
    )


def _logging() -> None:
    logger = logging.getLogger("mkdocs")
    if not any(getattr(h, "_unet_explain", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
        handler.setLevel(logging.WARNING)
        handler._unet_explain = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


class _Collected(logging.Handler):
    """MkDocs' warnings and errors kept for the one line, instead of printed as lines of their own."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage().strip()
        if text and not text.startswith("Error reading page") and not text.startswith("Aborted with"):
            self.messages.append(text)


@contextlib.contextmanager
def _collected() -> Iterator[_Collected]:
    """While the site builds, MkDocs' log goes into a list (its own stream handler silenced)."""
    logger = logging.getLogger("mkdocs")
    ours = [h for h in logger.handlers if getattr(h, "_unet_explain", False)]
    levels = [h.level for h in ours]
    for handler in ours:
        handler.setLevel(logging.CRITICAL + 1)
    collected = _Collected()
    logger.addHandler(collected)
    try:
        yield collected
    finally:
        logger.removeHandler(collected)
        for handler, level in zip(ours, levels, strict=True):
            handler.setLevel(level)


def _first_problem(collected: _Collected) -> str:
    from unet_explain.errors import plain

    return plain(collected.messages[0].splitlines()[0], 300) if collected.messages else "MkDocs gave no reason"


def _mkdocs() -> None:
    try:
        import mkdocs  # noqa: F401
    except ImportError:
        raise MissingToolError(
            "MkDocs is not installed; install the docs extras: pip install 'unet-explain[docs]' (or run 'make run')"
        ) from None


def _overrides(config_path: Path, flags: tuple[str, ...]) -> dict[str, Any]:
    """What the command changes in mkdocs.yml: the site's network and the hooks' path (from the package)."""
    import yaml

    # mkdocs.yml uses no custom YAML tags; its ``extra`` is merged, not replaced.
    with config_path.open(encoding="utf-8") as stream:
        extra = dict((yaml.safe_load(stream) or {}).get("extra") or {})
    extra[EXTRA_KEY] = {"flags": " ".join(flags)}
    return {"extra": extra, "hooks": [str(PACKAGE_DIR / "docs" / "hooks.py")]}


def check_site_dir(target: Path) -> Path:
    """Refuse, in one line, a target that is a file, not writable, or a foreign non-empty folder."""
    shown = str(target)
    if not shown:
        raise SiteDirError("-d '': the path is empty; name a folder for the site, e.g. -d site")
    limit = 255
    with contextlib.suppress(OSError, ValueError):
        limit = int(os.pathconf(target.parent if str(target.parent) else ".", "PC_NAME_MAX"))
    if len(target.name.encode("utf-8", "surrogateescape")) > limit:
        raise SiteDirError(
            f"-d {shown_value(shown)}: the folder name is {len(target.name.encode('utf-8', 'surrogateescape'))} "
            f"bytes long, above this file system's limit of {limit}; choose a shorter name"
        )
    # A symlink is followed: the site is built into its target and the link stays a link.
    target = Path(os.path.realpath(os.path.abspath(target)))
    if not target.parent.is_dir():
        raise SiteDirError(f"-d {shown}: the folder {str(target.parent)!r} does not exist; create it first")
    if target.exists() and not target.is_dir():
        raise SiteDirError(f"-d {shown}: it is a file, not a folder; name a folder for the site")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise SiteDirError(
            f"-d {shown}: the folder is not empty and is not a site built by unet-explain (no {MARKER} in it); "
            "name an empty or new folder"
        )
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK) or str(parent).startswith("/proc"):
        raise DocsError(f"-d {shown}: cannot write in {parent}; name a folder you can write to")
    if target.is_dir() and not os.access(target, os.W_OK | os.X_OK):
        raise DocsError(f"-d {shown}: cannot write in it; name a folder you can write to")
    return target


def _swap_in(built: Path, target: Path) -> None:
    """Replace ``target`` by ``built`` with two renames; the old site is deleted only afterwards."""
    mask = os.umask(0)
    os.umask(mask)
    built.chmod(0o777 & ~mask)  # mkdtemp made it 0700: give it the mode any new folder gets
    old: Path | None = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=_temp_prefix(target.name, "old"), dir=target.parent))
        old.rmdir()
        target.rename(old)
    try:
        built.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)  # put the previous site back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check_site_url(url: str) -> str:
    """``--site-url``: an absolute http(s) address of the folder the site will be published at."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            "site_url",
            f"must be an absolute http(s) address such as https://example.org/unet/; got {url!r} "
            "(leave it out: the site works from wherever it is served)",
        )
    return url if url.endswith("/") else url + "/"


def build_site(
    site_dir: Path | None = None,
    config_file: Path | None = None,
    config: UNetConfig | None = None,
    site_url: str | None = None,
) -> tuple[Path, float]:
    """Build the site (strict) for ``config`` (default the paper's) into ``site_dir`` (default ./site).

    ``site_url`` is where it will be published (for sitemap.xml and canonical links); without one the
    site works from wherever it is served. Returns the folder and the seconds it took.
    """
    site_url = check_site_url(site_url) if site_url is not None else None
    _mkdocs()
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, MkDocsException

    _logging()
    config_path = (config_file or find_config()).resolve()
    target = check_site_dir(site_dir if site_dir is not None else Path("site"))
    start = time.perf_counter()
    building: Path | None = None
    collected = _Collected()
    try:
        with interrupts.deferred():  # a signal now waits until the folder has a name to remove
            try:
                building = Path(tempfile.mkdtemp(prefix=_temp_prefix(target.name, "building"), dir=target.parent))
                (building / _OWNER).write_text(f"{os.getpid()}\n", encoding="ascii")
            except OSError as err:
                raise DocsError(f"-d {site_dir or 'site'}: cannot write next to it: {err.strerror}") from None
        overrides = _overrides(config_path, site_flags(config or UNetConfig()))
        if site_url is not None:
            overrides["site_url"] = site_url
        cfg = load_config(config_file=str(config_path), site_dir=str(building), **overrides)
        cfg.plugins.on_startup(command="build", dirty=False)
        try:
            with _collected() as collected:
                build(cfg)
        finally:
            cfg.plugins.on_shutdown()
        (building / MARKER).write_text(
            "Built by unet-explain: 'unet-explain docs build' may replace this folder.\n", encoding="utf-8"
        )
        (building / _OWNER).unlink()  # the site itself does not say who built it
        with interrupts.deferred():  # never between the two renames: the old site or the new one is in place
            _swap_in(building, target)
        remove_stale_builds(target)
    except Abort:
        raise DocsError(f"the site did not build: {_first_problem(collected)}") from None
    except MkDocsException as err:
        raise DocsError(f"the site did not build: {err}") from None
    except OSError as err:
        raise DocsError(f"the site did not build: {err.strerror or err}: {err.filename or target}") from None
    finally:
        if building is not None and building.exists():
            shutil.rmtree(building, ignore_errors=True)
    return target, time.perf_counter() - start


def check_port(port: int, host: str = "127.0.0.1") -> None:
    """Bind the port once, so a busy or privileged port is one clear line, not a traceback from the server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except PermissionError:
            raise DocsError(
                f"--port {port}: ports below 1024 need root; use a port from 1024 up, e.g. --port 8000"
            ) from None
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise DocsError(f"--port {port}: the port is in use on {host}; pick another with --port") from None
            raise DocsError(f"--port {port}: cannot listen on {host}: {err.strerror}") from None


def serve_site(
    port: int = 8000, config_file: Path | None = None, config: UNetConfig | None = None, announce: bool = False
) -> None:
    """Serve the site on localhost with live reload; rebuilds when the docs or the package change.

    MkDocs serves from a temporary folder of its own: no ``site/`` is touched.
    """
    _mkdocs()
    check_port(port)
    config = config or UNetConfig()
    if announce:
        print(f"Serving the site for {config.describe()} on http://127.0.0.1:{port}/ (Ctrl-C to stop)", flush=True)
    from mkdocs.commands.serve import serve

    _logging()
    logging.getLogger("mkdocs").handlers[-1].setLevel(logging.INFO)
    config_path = (config_file or find_config()).resolve()
    # MkDocs makes its site copy with tempfile before its own clean-up is armed: everything it makes in the
    # temporary folder goes into one of ours, removed whatever happens.
    with interrupts.deferred():
        scratch = tempfile.mkdtemp(prefix="unet-explain-serve-")
    saved, tempfile.tempdir = tempfile.tempdir, scratch
    try:
        serve(
            config_file=str(config_path),
            dev_addr=f"127.0.0.1:{port}",
            livereload=True,
            watch=[str(PACKAGE_DIR)],
            **_overrides(config_path, site_flags(config)),
        )
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(scratch, ignore_errors=True)
    interrupts.raise_received()  # MkDocs takes SIGTERM for a Ctrl-C and returns: the status still says which
