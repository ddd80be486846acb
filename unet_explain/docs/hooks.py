"""MkDocs hooks (``hooks:`` in mkdocs.yml): expand the pages' placeholders while the site builds.

``on_config`` reads which network the site is for (``extra: unet_explain:
flags:``, set by ``unet-explain docs build --input-size ...``; absent in
mkdocs.yml, so plain ``mkdocs build`` describes the paper's network) and
resolves the snippets' folders from the sources, not the working folder.
``on_files`` generates every figure the pages ask for and adds it to the site
as a real file (so strict link checking sees it), with a small page that shows
it enlarged; ``on_page_markdown``
replaces the placeholders with generated markdown. The work itself lives in
:mod:`unet_explain.docs.placeholders` (the grammar) and the modules it names.
"""

from __future__ import annotations

import logging
import os
import shlex
from pathlib import Path
from typing import Any

from unet_explain.docs.assets import viewer_html
from unet_explain.docs.cache import Cache
from unet_explain.docs.placeholders import expand, figures_in
from unet_explain.docs.site import EXTRA_KEY, site_flags
from unet_explain.docs.site_config import PACKAGE_DIR, Site, config_from_flags
from unet_explain.errors import UNetExplainError

log = logging.getLogger("mkdocs.plugins.unet_explain")
_cache: Cache | None = None


def cache_folder(root: Path) -> Path:
    """``.cache/docs`` next to mkdocs.yml in a clone; the user's cache folder for an installed package."""
    if os.access(root, os.W_OK) and (root / "pyproject.toml").exists():
        return root / ".cache" / "docs"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "unet-explain" / "docs"


def site_of(config: Any) -> Site:
    """The network and the sources of the site being built."""
    from mkdocs.exceptions import PluginError

    root = Path(config["config_file_path"]).resolve().parent
    words = shlex.split(str((config["extra"].get(EXTRA_KEY) or {}).get("flags", "")))
    try:
        flags = site_flags(config_from_flags(words))
    except UNetExplainError as err:
        raise PluginError(f"extra.{EXTRA_KEY}.flags {' '.join(words)!r}: {err}") from None
    return Site(flags=flags, root=root)


def _the_cache(config: Any) -> Cache:
    global _cache
    site = site_of(config)
    folder = cache_folder(site.root)
    if _cache is None or _cache.folder != folder or _cache.site != site:
        _cache = Cache(folder, site)
    return _cache


def on_config(config: Any) -> Any:
    # Snippets resolve against the sources and the package, never the working folder.
    site = site_of(config)
    snippets = config["mdx_configs"].setdefault("pymdownx.snippets", {})
    snippets["base_path"] = [str(site.root), str(PACKAGE_DIR.parent)]
    config["extra"].setdefault(EXTRA_KEY, {})["description"] = site.config.describe()
    return config


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    cache = _the_cache(config)
    seen: set[str] = set()
    for file in list(files.documentation_pages()):
        try:
            assets = figures_in(Path(file.abs_src_path).read_text(encoding="utf-8"), cache)
        except UNetExplainError as err:
            raise PluginError(f"{file.src_uri}: {err}") from None
        for asset in assets:
            if asset.uri not in seen:
                seen.add(asset.uri)
                files.append(File.generated(config, asset.uri, abs_src_path=str(asset.path)))
                if asset.column is not None:
                    files.append(File.generated(config, asset.shown_uri, abs_src_path=str(asset.column)))
                files.append(File.generated(config, asset.viewer_uri, content=viewer_html(asset)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    from mkdocs.exceptions import PluginError

    try:
        return expand(markdown, page.file.src_uri, _the_cache(config), page.url)
    except UNetExplainError as err:
        raise PluginError(str(err)) from None


def on_post_build(config: Any) -> None:
    from unet_explain.docs.not_found import portable

    not_found = Path(config["site_dir"]) / "404.html"
    if not config.get("site_url") and not_found.is_file():  # with a site_url, MkDocs's links point there
        not_found.write_text(portable(not_found.read_text(encoding="utf-8")), encoding="utf-8")
    cache = _the_cache(config)
    log.info(f"unet-explain: {cache.hits} generated items from the cache, {cache.misses} made anew")
