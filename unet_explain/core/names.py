"""One vocabulary of names for the spec, the table, the Keras layers and the diagram.

A stage is one row of the paper's Figure 1 on one side of the U: ``enc1`` ..
``encD`` down the contracting path, ``bottleneck`` at the bottom, ``decD`` ..
``dec1`` up the expansive path, and ``output`` for the final 1x1 convolution.
A layer inside a stage is ``<stage>_<op>``: ``enc1_conv1``, ``enc1_pool``,
``dec4_upconv``, ``dec4_crop``, ``dec4_concat``, ``output_conv``.

One spelling per context: a name a user types or reads (a command, a flag, a
variant such as ``caffe-release``, a key of ``compare --format json``) is
hyphenated; a Python identifier or a Keras name (a layer, a model:
``caffe_release``) is underscored, as Keras names its own (``block1_conv1``).
:func:`keras_name` is the one bridge between the two.
"""

from __future__ import annotations

BOTTLENECK = "bottleneck"
OUTPUT = "output"
INPUT = "input_tile"

CONTRACTING = "contracting"
EXPANSIVE = "expansive"


def encoder(level: int) -> str:
    """Name of contracting level ``level`` (1 = full resolution)."""
    return f"enc{level}"


def decoder(level: int) -> str:
    """Name of expansive level ``level`` (1 = full resolution)."""
    return f"dec{level}"


def conv(stage: str, index: int) -> str:
    """Name of the ``index``-th 3x3 convolution of a stage (1-based)."""
    return f"{stage}_conv{index}"


def layer(stage: str, op: str) -> str:
    """Name of a layer of a stage: ``layer("dec4", "crop") == "dec4_crop"``."""
    return f"{stage}_{op}"


def stage_order(depth: int) -> list[str]:
    """All stage names in data-flow order for a network with ``depth`` poolings."""
    return (
        [encoder(k) for k in range(1, depth + 1)] + [BOTTLENECK] + [decoder(k) for k in range(depth, 0, -1)] + [OUTPUT]
    )


def keras_name(user_name: str) -> str:
    """The Keras (Python-identifier) spelling of a user-facing name: ``"caffe-release"`` -> ``"caffe_release"``."""
    return user_name.replace("-", "_")
