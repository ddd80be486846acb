"""Expanded placeholders and generated figures on disk, keyed by what they depend on.

Each expansion is cached under the cache folder by a hash of the package's own
source (and Graphviz's version), the site flags and the placeholder, so a
rebuild with no change is quick and any change to the code or the config
produces fresh output.
"""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import Path

from unet_explain.docs.site_config import PACKAGE_DIR, Site


@cache
def fingerprint() -> str:
    """Hash of the package's source and of Graphviz's version: what generated output depends on."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if path.relative_to(PACKAGE_DIR).parts[0] == "_site_src":
            continue  # an installed package's copy of the site's sources (docs/examples/): not the package's code
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    dot = shutil.which("dot")
    if dot:
        version = subprocess.run([dot, "-V"], capture_output=True, text=True, check=False)
        digest.update(version.stderr.encode())
    return digest.hexdigest()


class Cache:
    """Expanded placeholders on disk, keyed by the package fingerprint, the site flags and the placeholder."""

    def __init__(self, folder: Path, site: Site | None = None) -> None:
        self.folder = folder
        self.site = site or Site()
        self.hits = 0
        self.misses = 0

    def key(self, *parts: str) -> str:
        text = "\0".join((fingerprint(), shlex.join(self.site.flags), *parts))
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def get(self, key: str, suffix: str, make: Callable[[], bytes]) -> Path:
        path = self.folder / f"{key}{suffix}"
        if path.exists():
            self.hits += 1
            return path
        self.misses += 1
        data = make()
        self.folder.mkdir(parents=True, exist_ok=True)
        from unet_explain.render.output import atomic_write

        return atomic_write(path, data)

    def text(self, kind: str, args: str, make: Callable[[], str]) -> str:
        path = self.get(self.key(kind, args), ".md", lambda: make().encode("utf-8"))
        return path.read_text(encoding="utf-8")
