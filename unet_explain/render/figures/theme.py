"""The one theme of every matplotlib figure: the colours for a light and a dark page, the rc, the writer.

Like a matplotlib style sheet, defined once and applied to every figure
(``matplotlib.rc_context``): text and axes in the page's foreground colours,
SVG text kept as text (``svg.fonttype = 'none'``, so it scales on a phone and
stays searchable) and a fixed hash salt, so the output is deterministic. A
figure adds only what is its own (a font size, its page colour) with
``extra``. Both colour sets read on Material's default (white) and slate
(#1e2129) pages.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from typing import Any

THEMES = ("light", "dark")

#: Colours per theme. The lesson figures use the first block; the tiling figure the second
#: (``page`` .. ``tile_text``); ``fg`` and ``muted`` are everyone's.
PALETTE: dict[str, dict[str, str]] = {
    "light": {
        "fg": "#1f2328",
        "muted": "#59636e",
        "cell": "#e8eaf6",
        "edge": "#7986cb",
        "accent": "#d35400",
        "accent_fill": "#fbd9bf",
        "keep": "#3949ab",
        "keep_fill": "#c5cae9",
        "drop": "#c0392b",
        "drop_fill": "#f5c6c1",
        "second": "#1e8449",
        "second_fill": "#c8ebd5",
        "zero": "#f4f4f4",
        "overlay": "#ffffff",
        "hues": "#3f51b5,#e67e22,#16a085,#8e44ad",
        "page": "#ffffff",
        "image": "#dbe7f7",
        "image_edge": "#1f4e9c",
        "border": "#f3e3c3",
        "border_hatch": "#c9a96b",
        "grid": "#1e9e4a",
        "tile": "#c0392b",
        "tile_text": "#8e2a1f",
    },
    "dark": {
        "fg": "#e3e6ea",
        "muted": "#a3abb6",
        "cell": "#2b3052",
        "edge": "#7f8fd6",
        "accent": "#ffa64d",
        "accent_fill": "#6b3d12",
        "keep": "#9fa8ff",
        "keep_fill": "#323a78",
        "drop": "#ff8a80",
        "drop_fill": "#5e2722",
        "second": "#6fdc9c",
        "second_fill": "#1f4d33",
        "zero": "#3a3f4b",
        "overlay": "#1e2129",
        "hues": "#8c9eff,#ffb74d,#4dd0b1,#ce93d8",
        "page": "#1e2129",
        "image": "#25344d",
        "image_edge": "#8fb4ff",
        "border": "#2e2a24",
        "border_hatch": "#8a7450",
        "grid": "#5fd38d",
        "tile": "#ff8a80",
        "tile_text": "#ffb3ab",
    },
}

#: The dark page of Material's slate scheme, for figures drawn on an opaque background.
DARK_PAGE = PALETTE["dark"]["page"]


def colours(theme: str) -> dict[str, str]:
    """The colour set of ``theme``; a clear error for an unknown one."""
    if theme not in PALETTE:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}; got {theme!r}")
    return PALETTE[theme]


def rc(theme: str, extra: dict[str, Any] | None = None) -> Any:  # matplotlib types the keys as a Literal
    """The rc every figure is drawn under, plus a figure's own ``extra`` settings."""
    c = colours(theme)
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": "unet-explain",
        "text.color": c["fg"],
        "axes.labelcolor": c["fg"],
        "axes.edgecolor": c["muted"],
        "xtick.color": c["fg"],
        "ytick.color": c["fg"],
        **(extra or {}),
    }


@contextlib.contextmanager
def page_style(theme: str) -> Iterator[None]:
    """For a figure drawn on an opaque page (the weight map): matplotlib's dark style on the slate page colour."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    if theme != "dark":
        yield
        return
    with plt.style.context(
        [
            "dark_background",
            {"figure.facecolor": DARK_PAGE, "axes.facecolor": DARK_PAGE, "savefig.facecolor": DARK_PAGE},
        ]
    ):
        yield


def figure_bytes(
    draw: Callable[[], Any], theme: str, fmt: str, extra: dict[str, Any] | None = None, *, transparent: bool = False
) -> bytes:
    """Draw a figure under the theme's rc and save it as ``fmt`` (svg, png, pdf), with no date or software stamp."""
    import matplotlib

    with matplotlib.rc_context(rc(theme, extra)):
        fig = draw()
        buffer = io.BytesIO()
        metadata: dict[str, Any] = {"svg": {"Date": None}, "png": {"Software": None}}.get(fmt, {"CreationDate": None})
        if transparent:
            fig.savefig(buffer, format=fmt, transparent=True, metadata=metadata)
        else:
            fig.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()
