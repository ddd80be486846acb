"""Packaging step that pyproject.toml cannot express: the wheel carries the site's sources.

``docs/`` and ``mkdocs.yml`` stay at the top of the repository (plain
``mkdocs build`` and ``mkdocs serve`` work from a clone); this build step copies
them into ``unet_explain/_site_src/`` of the built package, so that an installed
``unet-explain docs build`` and ``docs serve`` work from any folder. The
package finds them with ``unet_explain.docs.site.find_config``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithSiteSources(build_py):
    """``build_py`` plus a copy of mkdocs.yml and docs/ inside the built package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install finds the sources in the clone itself
            return
        target = Path(self.build_lib) / "unet_explain" / "_site_src"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        shutil.copy2(HERE / "mkdocs.yml", target / "mkdocs.yml")
        shutil.copytree(HERE / "docs", target / "docs", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithSiteSources})
