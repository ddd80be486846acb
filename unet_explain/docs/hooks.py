"""MkDocs hooks (``hooks:`` in mkdocs.yml): expand the pages' placeholders while the site builds.

``on_files`` generates every figure the pages ask for and adds it to the site
as a real file (so strict link checking sees it); ``on_page_markdown``
replaces the placeholders with generated markdown. The work itself lives in
:mod:`unet_explain.docs.generate`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from unet_explain.docs import generate
from unet_explain.errors import UNetExplainError

log = logging.getLogger("mkdocs.plugins.unet_explain")
_cache: generate.Cache | None = None


def _the_cache(config: Any) -> generate.Cache:
    global _cache
    folder = Path(config["config_file_path"]).resolve().parent / ".cache" / "docs"
    if _cache is None or _cache.folder != folder:
        _cache = generate.Cache(folder)
    return _cache


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    cache = _the_cache(config)
    seen: set[str] = set()
    for file in list(files.documentation_pages()):
        try:
            assets = generate.figures_in(Path(file.abs_src_path).read_text(encoding="utf-8"), cache)
        except UNetExplainError as err:
            raise PluginError(f"{file.src_uri}: {err}") from None
        for asset in assets:
            if asset.uri not in seen:
                seen.add(asset.uri)
                files.append(File.generated(config, asset.uri, abs_src_path=str(asset.path)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    from mkdocs.exceptions import PluginError

    try:
        return generate.expand(markdown, page.file.src_uri, _the_cache(config))
    except UNetExplainError as err:
        raise PluginError(str(err)) from None


def on_post_build(config: Any) -> None:
    cache = _the_cache(config)
    log.info(f"unet-explain: {cache.hits} generated items from the cache, {cache.misses} made anew")
