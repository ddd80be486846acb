"""Every layer of the built Keras model as a graph (keras ``plot_model``), for those who want it all.

The U diagram (:mod:`unet_explain.render.diagram`) shows feature maps and
operations; this shows Keras's view: 37 layer boxes in a vertical chain, with
shapes, under the same stage-based layer names.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from unet_explain.render.output import DIAGRAM_FORMATS, atomic_write, format_from_path, render_graph

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig


def layer_graph_bytes(config: UNetConfig, fmt: str) -> bytes:
    """Keras's layer graph of the model for ``config``, rendered to ``fmt`` (png, svg, pdf or dot)."""
    from unet_explain.model.keras_unet import build_model, load_keras

    keras = load_keras()
    graph = keras.utils.model_to_dot(build_model(config), show_shapes=True, show_layer_names=True, dpi=96)
    if fmt == "dot":
        return str(graph.to_string()).encode("utf-8")
    return render_graph(graph, fmt)


def save_layer_graph(config: UNetConfig, path: str | Path, fmt: str | None = None) -> Path:
    """Write Keras's layer graph atomically; the format comes from ``fmt`` or the suffix."""
    path = Path(path)
    fmt = format_from_path(path, fmt, DIAGRAM_FORMATS)
    return atomic_write(path, layer_graph_bytes(config, fmt))
