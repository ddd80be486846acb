"""Build or serve the documentation site (``unet-explain docs build|serve``) through MkDocs's API."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from unet_explain.errors import MissingToolError, UNetExplainError

PACKAGE_DIR = Path(__file__).resolve().parent.parent


class DocsError(UNetExplainError):
    """The site could not be built."""

    exit_code = 1


def find_config(start: Path | None = None) -> Path:
    """``mkdocs.yml`` in the current folder, else in the repository this package was installed from."""
    for folder in (start or Path.cwd(), PACKAGE_DIR.parent):
        candidate = folder / "mkdocs.yml"
        if candidate.is_file():
            return candidate
    raise DocsError(
        "no mkdocs.yml in the current folder or next to the package; run this from a clone of the "
        "unet-explain repository (the docs' sources are not part of the installed package)"
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


def _mkdocs() -> None:
    try:
        import mkdocs  # noqa: F401
    except ImportError:
        raise MissingToolError(
            "MkDocs is not installed; install the docs extras: pip install 'unet-explain[docs]' (or run 'make run')"
        ) from None


def build_site(site_dir: Path | None = None, config_file: Path | None = None) -> tuple[Path, float]:
    """Build the site (strict); return the folder and the seconds it took."""
    _mkdocs()
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    _logging()
    config_path = config_file or find_config()
    kwargs = {"site_dir": str(site_dir.resolve())} if site_dir else {}
    start = time.perf_counter()
    try:
        cfg = load_config(config_file=str(config_path), **kwargs)
        cfg.plugins.on_startup(command="build", dirty=False)
        try:
            build(cfg)
        finally:
            cfg.plugins.on_shutdown()
    except MkDocsException as err:
        raise DocsError(f"the site did not build: {err}") from None
    return Path(cfg["site_dir"]), time.perf_counter() - start


def serve_site(port: int = 8000, config_file: Path | None = None) -> None:
    """Serve the site on localhost with live reload; rebuilds when the docs or the package change."""
    _mkdocs()
    from mkdocs.commands.serve import serve

    _logging()
    logging.getLogger("mkdocs").handlers[-1].setLevel(logging.INFO)
    serve(
        config_file=str(config_file or find_config()),
        dev_addr=f"127.0.0.1:{port}",
        livereload=True,
        watch=[str(PACKAGE_DIR)],
    )
