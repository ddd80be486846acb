"""The teaching figures of the walkthrough, by name: one module each, one line here.

Each figure explains one step of the paper's section 2 on a toy example a
reader can count by eye (a 7x7 map, a 4x4 pooling), and then shows the same
step with the real numbers of the network the site is built for: every number
drawn comes from the :class:`~unet_explain.core.spec.UNetSpec` (or from the
receptive-field analysis and the tile planner that read it), so the figures
stay right for any depth, padding and tile.

A figure module has ``alt(spec)`` (the content in words, with the config's
numbers) and ``draw(spec, theme)`` (a matplotlib Figure). Adding a figure is
adding such a module and one line (its name and title) here.
The figures are SVG with transparent backgrounds, in the one theme of
:mod:`unet_explain.render.figures.theme`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unet_explain.render.figures.theme import THEMES, figure_bytes

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec

FIGURE_FORMATS = ("svg", "png", "pdf")


@dataclass(frozen=True)
class LessonFigure:
    """One teaching figure: its module (which draws it and describes it) and its title.

    The module is imported when the figure is first drawn or described, so listing the
    figures (``unet-explain figure --help``, the parser of every command) imports none of them.
    """

    name: str
    """The figure's name, which is also its module's name in this package (``conv3x3``)."""
    title: str
    """One line naming the idea the figure teaches."""
    network: bool = True
    """``False``: the drawing does not depend on the network (the same on every site, drawn once for all)."""

    def module(self) -> Any:
        """The module with ``alt(spec)`` and ``draw(spec, theme)``."""
        return importlib.import_module(f"{__package__}.{self.name}")

    def alt(self, spec: UNetSpec) -> str:
        """The figure's content in one or two sentences, with the config's numbers."""
        return str(self.module().alt(spec))

    def draw(self, spec: UNetSpec, theme: str) -> Any:
        """The matplotlib Figure (what ``maker`` renders)."""
        return self.module().draw(spec, theme)

    def maker(self, spec: UNetSpec, theme: str) -> bytes:
        """``(spec, theme) -> SVG bytes``; ``theme`` is ``"light"`` or ``"dark"``."""
        return render(self.name, spec, theme)

    def __call__(self, spec: UNetSpec, theme: str) -> bytes:
        """The SVG, as ``maker`` draws it: an entry can be called like a plain maker function."""
        return self.maker(spec, theme)


def render(name: str, spec: UNetSpec, theme: str = "light", fmt: str = "svg") -> bytes:
    """Render lesson figure ``name`` as ``svg`` (the site's format), ``png`` or ``pdf``."""
    from unet_explain.render.figures import drawing

    figure = LESSON_FIGURES[name]
    return figure_bytes(lambda: figure.draw(spec, theme), theme, fmt, drawing.rc_extra(theme), transparent=True)


_FIGURES = (
    LessonFigure("conv3x3", "A 3x3 convolution without padding loses a pixel at each border"),
    LessonFigure("pooling", "2x2 max-pooling needs an even size"),
    LessonFigure("upconv", "A 2x2 up-convolution with stride 2 doubles the size and halves the channels"),
    LessonFigure("copy_crop", "Copy and crop: the copied map's border is cut to the up-sampled size"),
    LessonFigure("tiles", "Neighbouring tiles overlap by twice the context margin; the image edge is mirrored"),
    LessonFigure(
        "receptive_field", "The receptive field depends on the pixel's position; its reach against the context margin"
    ),
    LessonFigure("side_trace", "The side length through every layer: down to the bottleneck and up to the output"),
    LessonFigure(
        "levels",
        "Down the U the map shrinks and the channels grow; the bottleneck has the smallest map and the most channels",
    ),
    LessonFigure("costs", "Parameters, multiply-accumulates and activation memory per stage"),
    LessonFigure(
        "augmentation",
        "Elastic deformation: random moves on a 3x3 grid, interpolated bicubically, bend an image smoothly",
        network=False,  # the paper's grid and spread on synthetic cells
    ),
    LessonFigure("gpu_fit", "What fits on my GPU: memory against tile size, for training and inference"),
)
LESSON_FIGURES: dict[str, LessonFigure] = {figure.name: figure for figure in _FIGURES}

#: The figures that stay true for a volume (the 3D U-Net): the costs per stage, and the receptive field along one
#: axis (the layers act on each axis alike). The others draw 2D toy maps and 2D tiles, and are refused for a volume.
VOLUME_FIGURES = frozenset({"costs", "receptive_field"})

#: Each figure's title, by name: a short alt text where the spec is not at hand (``LessonFigure.alt`` has the numbers).
ALT: dict[str, str] = {name: figure.title for name, figure in LESSON_FIGURES.items()}

__all__ = ["ALT", "FIGURE_FORMATS", "LESSON_FIGURES", "THEMES", "VOLUME_FIGURES", "LessonFigure", "render"]
