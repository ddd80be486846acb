"""The figure placeholders (``diagram``, ``figure``, ``tiling``, ``weight-map``): each drawn light and dark.

A figure is made once per content (cached by :mod:`.cache`) and added to the
site as a real file with a page that shows it enlarged (:mod:`.assets`).
"""

from __future__ import annotations

import argparse
import functools
import io
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unet_explain.config import format_size
from unet_explain.core.spec import UNetSpec, build_spec
from unet_explain.docs.assets import ASSET_DIR, Asset
from unet_explain.docs.cache import Cache
from unet_explain.docs.site_config import PlaceholderError, Site, spec_for, split_option, stage_alias
from unet_explain.render.figures.theme import THEMES, page_style

if TYPE_CHECKING:
    from unet_explain.render.figures.registry import LessonFigure


def _diagram_svg(words: list[str], site: Site, theme: str) -> bytes:
    from unet_explain.render.diagram import diagram

    wanted, rest = split_option(words, "--highlight")
    spec = spec_for(rest, site)
    highlight = highlight_names(wanted, spec) if wanted else None
    return diagram(spec, highlight=highlight, theme=theme).render("svg")


def _diagram_column(words: list[str], site: Site, theme: str) -> bytes:
    """The U at the page column's width (:mod:`unet_explain.render.u_compact`); the full one is the enlargement."""
    from unet_explain.render.u_compact import compact_u

    wanted, rest = split_option(words, "--highlight")
    spec = spec_for(rest, site)
    return compact_u(spec, highlight_names(wanted, spec) if wanted else None, theme).encode()


def _diagram_focus(words: list[str], site: Site) -> tuple[float, float]:
    from unet_explain.render.u_compact import focus

    wanted, rest = split_option(words, "--highlight")
    spec = spec_for(rest, site)
    return focus(spec, highlight_names(wanted, spec) if wanted else None)


def highlight_names(text: str, spec: UNetSpec) -> list[str]:
    """``enc1,encD``, or a path (``contracting``, ``expansive``), as stage names of ``spec``."""
    names: list[str] = []
    stage_names = [s.name for s in spec.stages]
    for word in text.split(","):
        word = stage_alias(word.strip(), spec)
        by_path = [s.name for s in spec.stages if s.path == word]
        if by_path:
            names += by_path
        elif word in stage_names:
            names.append(word)
        else:
            raise PlaceholderError(f"--highlight {word!r} is neither a stage ({', '.join(stage_names)}) nor a path")
    return names


def _tiling_args(words: list[str]) -> tuple[tuple[int, ...], list[str]]:
    from unet_explain.config import parse_size

    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--image", required=True)
    args, rest = parser.parse_known_args(words)
    return parse_size(args.image, "image"), rest


def _tiling_svg(words: list[str], site: Site, theme: str) -> bytes:
    from unet_explain.core.tiling import plan_tiles
    from unet_explain.render.figures.tiling import figure_bytes

    image, rest = _tiling_args(words)
    with page_style(theme):
        return figure_bytes(plan_tiles(image, _planar_spec(rest, site)), "svg", theme)


def _planar_spec(words: list[str], site: Site, name: str = "") -> UNetSpec:
    """The spec to draw: a volume's in-plane network for a 2D figure (the figure then shows its rows and columns)."""
    from unet_explain.config import in_plane
    from unet_explain.render.figures.registry import VOLUME_FIGURES

    spec = spec_for(words, site)
    if spec.config.dims == 3 and name not in VOLUME_FIGURES:
        return build_spec(in_plane(spec.config))
    return spec


def _plane_note(words: list[str], site: Site, name: str = "") -> str:
    from unet_explain.render.figures.registry import VOLUME_FIGURES

    volume = spec_for(words, site).config
    if volume.dims == 3 and name not in VOLUME_FIGURES:
        size = format_size(volume.input_size)
        return f" (drawn for the rows and columns of the {size} volume; its slices follow the same rules)"
    return ""


@functools.cache
def _demo_weights() -> tuple[Any, Any]:
    """The synthetic cells and their weight map, computed once for the light and the dark drawing (read only)."""
    from unet_explain.loss_weights import touching_cells, weight_map

    labels = touching_cells()
    return labels, weight_map(labels)


def _weight_map_svg(words: list[str], site: Site, theme: str) -> bytes:
    """The weight map as SVG with real text (its images embedded), so its labels can be measured and read."""
    import matplotlib

    from unet_explain.loss_weights import PAPER_SIGMA, PAPER_W0
    from unet_explain.render.figures.weight_map import weight_map_figure

    if words:
        raise PlaceholderError(f"weight-map takes no arguments; got {words}")
    labels, weights = _demo_weights()
    with page_style(theme), matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "unet-explain"}):
        fig = weight_map_figure(labels, weights, PAPER_W0, PAPER_SIGMA)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    from matplotlib import pyplot as plt

    plt.close(fig)
    return buffer.getvalue()


def _lesson_figure(words: list[str]) -> LessonFigure:
    from unet_explain.render.figures.registry import LESSON_FIGURES

    if not words:
        raise PlaceholderError("figure takes a NAME, then config flags")
    if words[0] not in LESSON_FIGURES:
        raise PlaceholderError(f"no lesson figure {words[0]!r}; known: {', '.join(sorted(LESSON_FIGURES))}")
    return LESSON_FIGURES[words[0]]


def _lesson_svg(words: list[str], site: Site, theme: str) -> bytes:
    return _lesson_figure(words)(_planar_spec(words[1:], site, words[0]), theme)


def _lesson_alt(words: list[str], site: Site) -> str:
    """The lesson figure's own description, with the numbers of the site's network."""
    alt = _lesson_figure(words).alt(_planar_spec(words[1:], site, words[0]))
    return alt + _plane_note(words[1:], site, words[0])


def _diagram_alt(words: list[str], site: Site) -> str:
    wanted, rest = split_option(words, "--highlight")
    spec = spec_for(rest, site)
    text = f"The U-Net for {spec.config.describe()}"
    return text + (f"; highlighted: {', '.join(highlight_names(wanted, spec))}" if wanted else "")


@dataclass(frozen=True)
class FigureKind:
    """How to draw one kind of figure, in either theme."""

    suffix: str
    make: Callable[[list[str], Site, str], bytes]
    alt: Callable[[list[str], Site], str]
    column: Callable[[list[str], Site, str], bytes] | None = None
    """A rendition for the page column, when the figure is too detailed to read there (same suffix)."""
    focus: Callable[[list[str], Site], tuple[float, float]] | None = None
    """Where its highlight sits (a fraction of the width), for a phone's scroll box."""
    network: bool | Callable[[list[str]], bool] = True
    """Drawn for the site's network; ``False``: the same drawing on every site, made once for all of them (or
    which of the two, for the placeholder's words)."""

    def draws_the_network(self, words: list[str]) -> bool:
        """Whether the drawing for these placeholder words depends on the site's network."""
        return self.network(words) if callable(self.network) else self.network


FIGURE_KINDS: dict[str, FigureKind] = {
    "weight-map": FigureKind(
        ".svg",
        _weight_map_svg,
        lambda w, s: "The weight map of the loss on a synthetic image of touching cells",
        network=False,  # synthetic cells and the paper's w0 and sigma: nothing of the site's network
    ),
    "diagram": FigureKind(".svg", _diagram_svg, _diagram_alt, _diagram_column, _diagram_focus),
    "tiling": FigureKind(
        ".svg",
        _tiling_svg,
        lambda w, s: (
            f"Overlap-tile plan for a {format_size(_tiling_args(w)[0])} image" + _plane_note(_tiling_args(w)[1], s)
        ),
    ),
    "figure": FigureKind(".svg", _lesson_svg, _lesson_alt, network=lambda words: _lesson_figure(words).network),
}


def figure(kind: str, args: str, cache_: Cache) -> list[Asset]:
    """The light and the dark drawing of one figure placeholder (made or taken from the cache)."""
    spec = FIGURE_KINDS[kind]
    words = shlex.split(args)
    # A drawing that does not depend on the network is keyed as the paper's site keys it: every site shares it.
    key = (cache_ if spec.draws_the_network(words) else Cache(cache_.folder)).key(kind, args.strip())
    alt = spec.alt(words, cache_.site)
    focus = spec.focus(words, cache_.site) if spec.focus else (0.0, 1.0)
    assets = []
    for theme in THEMES:
        path = cache_.get(f"{key}-{theme}", spec.suffix, lambda t=theme: spec.make(words, cache_.site, t))  # type: ignore[misc]
        column = None
        if spec.column is not None:
            draw = spec.column
            column = cache_.get(
                f"{key}-{theme}-column",
                spec.suffix,
                lambda t=theme, d=draw: d(words, cache_.site, t),  # type: ignore[misc]
            )
        assets.append(Asset(f"{ASSET_DIR}/{kind}-{key}-{theme}{spec.suffix}", path, alt, theme, column, focus))
    return assets
