"""The teaching figures of the walkthrough, by name: one module each, one line here.

Each figure explains one step of the paper's section 2 on a toy example a
reader can count by eye (a 7x7 map, a 4x4 pooling), and then shows the same
step with the real numbers of the network the site is built for: every number
drawn comes from the :class:`~unet_explain.core.spec.UNetSpec` (or from the
receptive-field analysis and the tile planner that read it), so the figures
stay right for any depth, padding and tile.

A figure module has ``TITLE`` (one line), ``alt(spec)`` (the content in words,
with the config's numbers) and ``draw(spec, theme)`` (a matplotlib Figure).
Adding a figure is adding such a module and one line to :data:`LESSON_FIGURES`.
The figures are SVG with transparent backgrounds, in the one theme of
:mod:`unet_explain.render.figures.theme`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from unet_explain.render.figures import (
    augmentation,
    conv3x3,
    copy_crop,
    costs,
    drawing,
    gpu_fit,
    levels,
    pooling,
    receptive_field,
    side_trace,
    tiles,
    upconv,
)
from unet_explain.render.figures.theme import THEMES, figure_bytes

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec

FIGURE_FORMATS = ("svg", "png", "pdf")


@dataclass(frozen=True)
class LessonFigure:
    """One teaching figure: how to draw it, what it shows in words, and its title."""

    title: str
    """One line naming the idea the figure teaches."""
    alt: Callable[[UNetSpec], str]
    """``spec -> alt text``: the figure's content in one or two sentences, with the config's numbers."""
    draw: Callable[[UNetSpec, str], Any]
    """``(spec, theme) -> matplotlib Figure`` (what ``maker`` renders)."""

    @classmethod
    def of(cls, module: ModuleType) -> LessonFigure:
        """The entry of a figure module (its ``TITLE``, ``alt`` and ``draw``)."""
        return cls(module.TITLE, module.alt, module.draw)

    def maker(self, spec: UNetSpec, theme: str) -> bytes:
        """``(spec, theme) -> SVG bytes``; ``theme`` is ``"light"`` or ``"dark"``."""
        return _render(self.draw, spec, theme)

    def __call__(self, spec: UNetSpec, theme: str) -> bytes:
        """The SVG, as ``maker`` draws it: an entry can be called like a plain maker function."""
        return self.maker(spec, theme)


def _render(draw: Callable[[UNetSpec, str], Any], spec: UNetSpec, theme: str, fmt: str = "svg") -> bytes:
    return figure_bytes(lambda: draw(spec, theme), theme, fmt, drawing.rc_extra(theme), transparent=True)


def render(name: str, spec: UNetSpec, theme: str = "light", fmt: str = "svg") -> bytes:
    """Render lesson figure ``name`` as ``svg`` (the site's format), ``png`` or ``pdf``."""
    return _render(LESSON_FIGURES[name].draw, spec, theme, fmt)


LESSON_FIGURES: dict[str, LessonFigure] = {
    "conv3x3": LessonFigure.of(conv3x3),
    "pooling": LessonFigure.of(pooling),
    "upconv": LessonFigure.of(upconv),
    "copy_crop": LessonFigure.of(copy_crop),
    "tiles": LessonFigure.of(tiles),
    "receptive_field": LessonFigure.of(receptive_field),
    "side_trace": LessonFigure.of(side_trace),
    "levels": LessonFigure.of(levels),
    "costs": LessonFigure.of(costs),
    "augmentation": LessonFigure.of(augmentation),
    "gpu_fit": LessonFigure.of(gpu_fit),
}

#: The figures that stay true for a volume (the 3D U-Net): the costs per stage, and the receptive field along one
#: axis (the layers act on each axis alike). The others draw 2D toy maps and 2D tiles, and are refused for a volume.
VOLUME_FIGURES = frozenset({"costs", "receptive_field"})

#: Each figure's title, by name: a short alt text where the spec is not at hand (``LessonFigure.alt`` has the numbers).
ALT: dict[str, str] = {name: figure.title for name, figure in LESSON_FIGURES.items()}

__all__ = ["ALT", "FIGURE_FORMATS", "LESSON_FIGURES", "THEMES", "VOLUME_FIGURES", "LessonFigure", "render"]
