"""Where a generated figure lives in the site, how a page shows it, and the page that shows it enlarged."""

from __future__ import annotations

import html
import posixpath
from dataclasses import dataclass
from pathlib import Path

ASSET_DIR = "assets/generated"


@dataclass(frozen=True)
class Asset:
    """A generated figure: where the site serves it and where the cache keeps it."""

    uri: str
    """Path inside the site, e.g. ``assets/generated/diagram-1a2b-dark.svg``."""
    path: Path
    """The cached file."""
    alt: str
    """Alternative text."""
    theme: str = "light"
    """``light`` or ``dark``: the colour scheme it is drawn for."""
    column: Path | None = None
    """A rendition drawn for the page column (fewer, larger labels), when the figure itself is too detailed
    to read there; the figure stays behind "tap to enlarge"."""
    focus: tuple[float, float] = (0.0, 1.0)
    """Where the figure's highlight sits (start, end), as fractions of its width: a phone's scroll box opens
    there."""

    @property
    def viewer_uri(self) -> str:
        """The page that shows the figure enlarged (``...-dark.svg`` -> ``...-dark.html``)."""
        return posixpath.splitext(self.uri)[0] + ".html"

    @property
    def shown_uri(self) -> str:
        """What the page column shows: the column rendition (``...-dark-column.svg``), or the figure."""
        if self.column is None:
            return self.uri
        stem, suffix = posixpath.splitext(self.uri)
        return f"{stem}-column{suffix}"


# The background of the enlarged view: Material's own page colours for its two schemes
# (default: white; slate: hsl(232, 15%, 14%)), so a dark drawing (transparent, light text) stays readable.
VIEWER_COLOURS = {"light": ("#ffffff", "#000000de", "#3f51b5"), "dark": ("#1e2029", "#e2e4e9", "#9fa8da")}


def viewer_html(asset: Asset) -> str:
    """A small page showing one figure at its natural size: scrollable, pinch-zoomable, with a way back.

    The bare SVG would open on the browser's white canvas, zoomed out to fit a phone;
    this page keeps the drawing's own size and the theme's background.
    """
    background, text, link = VIEWER_COLOURS[asset.theme]
    name = posixpath.basename(asset.uri)
    alt = html.escape(asset.alt)
    home = "../" * (ASSET_DIR.count("/") + 1)  # the site's home, if there is no page to go back to
    back = "if (history.length > 1) { history.back(); return false; }"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="{asset.theme}">
<title>{alt}</title>
<style>
html, body {{ margin: 0; background: {background}; color: {text}; font-family: system-ui, sans-serif; }}
nav {{ position: sticky; left: 0; padding: 0.6em 1em; font-size: 1rem; }}
nav a {{ color: {link}; }}
main {{ padding: 0 1em 1em; }}
img {{ display: block; max-width: none; height: auto; }}
p {{ margin: 0.3em 0 0.8em; font-size: 0.9rem; }}
</style>
</head>
<body>
<nav><a href="{home}" onclick="{back}">&larr; Back</a></nav>
<main>
<p>{alt}. Scroll or pinch to zoom.</p>
<img class="unet-enlarged" src="{name}" alt="{alt}">
</main>
</body>
</html>
"""


def page_folder(page_uri: str, page_url: str | None = None) -> str:
    """The folder a page is served from: ``walkthrough/costs.md`` is ``walkthrough/costs/index.html``.

    Raw HTML links are not rewritten by MkDocs, so figure links are made relative to where the page is served.
    """
    if page_url is not None:
        folder = page_url if page_url.endswith("/") or not page_url else posixpath.dirname(page_url)
    else:
        stem, name = posixpath.splitext(page_uri)[0], posixpath.basename(page_uri)
        folder = posixpath.dirname(page_uri) if name in ("index.md", "README.md") else stem
    return folder.strip("/") or "."


# Figures wider than a phone's column at a readable size: they scroll sideways there, opened at their
# highlight, with a visible hint (the U's column rendition: 640 px).
WIDE_FIGURES = frozenset({"diagram"})
SCROLL_HINT = "⇆ scroll sideways for the whole U"


def figure_markdown(assets: list[Asset], page_uri: str, page_url: str | None = None, wide: bool = False) -> str:
    """A figure shown in the scheme's colours; a tap or click opens it enlarged on a page of its own.

    A ``wide`` figure sits in its own horizontal scroll box, which the stylesheet gives a
    minimum width on narrow screens, so its labels stay readable there; the box opens at the
    figure's highlight (``data-focus``, read by ``assets/figures.js``) and says that it scrolls.
    The figure is left out of the search index: a page's snippet starts with its own words.
    """
    here = page_folder(page_uri, page_url)
    images = []
    for asset in assets:
        link = posixpath.relpath(asset.shown_uri, here)
        viewer = posixpath.relpath(asset.viewer_uri, here)
        images.append(
            f'<a class="unet-figure-link" href="{viewer}" title="Open the figure at full size">'
            f'<img src="{link}#only-{asset.theme}" alt="{html.escape(asset.alt)}"></a>'
        )
    caption = html.escape(assets[0].alt)
    body = "\n".join(images)
    hint = ""
    if wide:
        start, end = assets[0].focus
        body = f'<div class="unet-figure-scroll" data-focus="{start:g},{end:g}">\n{body}\n</div>'
        hint = f'<span class="unet-scroll-hint">{SCROLL_HINT}</span> '
    return (
        f'<figure class="unet-figure{" unet-figure--wide" if wide else ""}" data-search-exclude>\n'
        + body
        + f'\n<figcaption>{hint}{caption} <span class="unet-hint">(tap to enlarge)</span></figcaption>\n</figure>'
    )
