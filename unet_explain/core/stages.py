"""The spec's data: a layer, a stage, the totals and the whole network, as plain frozen dataclasses.

:mod:`unet_explain.core.spec` computes them (``build_spec``); everything else reads
them. This module computes nothing, so the modules that compute one part of the
spec (such as :mod:`unet_explain.core.receptive_field`) can name its types
without importing the builder that calls them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig

Size = tuple[int, ...]
"""A spatial size: (rows, columns) for an image, (rows, columns, slices) for a volume."""

# Layer kinds, shared by the spec, the Keras builder and the diagram.
CONV3X3 = "conv3x3"
MAXPOOL = "maxpool"
UPCONV = "upconv"
CROP = "crop"
CONCAT = "concat"
CONV1X1 = "conv1x1"
SOFTMAX = "softmax"
BATCHNORM = "batchnorm"


@dataclass(frozen=True)
class StageField:
    """Smallest and largest receptive field of the units of one stage's output, per axis (rows, columns[, slices])."""

    smallest: tuple[int, ...]
    """Smallest field over positions, per axis."""
    largest: tuple[int, ...]
    """Largest field over positions, per axis."""

    def as_dict(self) -> dict[str, Any]:
        """JSON form: ``{"min": [rows, cols], "max": [rows, cols]}`` (three entries for a volume)."""
        return {"min": list(self.smallest), "max": list(self.largest)}


@dataclass(frozen=True)
class LayerSpec:
    """One layer: its Keras name, what it does and the tensor it produces."""

    name: str
    """Keras layer name, ``<stage>_<op>`` (``enc1_conv1``)."""
    kind: str
    """One of ``conv3x3``, ``batchnorm``, ``maxpool``, ``upconv``, ``crop``, ``concat``, ``conv1x1``, ``softmax``."""
    out_size: Size
    """Spatial size (H, W) of the output; (H, W, D) for a volume."""
    channels: int
    """Channels of the output."""
    params: int
    """Weights plus biases."""
    macs: int
    """Multiply-accumulates for one forward pass."""
    activation_bytes: int
    """float32 bytes this layer materialises (0 for in-place or view layers)."""


@dataclass(frozen=True)
class Stage:
    """One stage of the U: a level of the contracting or expansive path, the bottleneck or the output."""

    name: str
    """``enc1`` .. ``encD``, ``bottleneck``, ``decD`` .. ``dec1`` or ``output``."""
    path: str
    """``contracting``, ``bottleneck``, ``expansive`` or ``output``."""
    level: int
    """Resolution level: 1 for full resolution, ``depth + 1`` for the bottleneck."""
    in_size: Size
    """Spatial size of the map entering the stage."""
    in_channels: int
    """Channels of the map entering the stage."""
    conv_sizes: tuple[Size, ...]
    """Size after each 3x3 convolution (empty for the output stage)."""
    out_size: Size
    """Size of the stage's main output (before pooling, for an encoder)."""
    channels: int
    """Channels of the stage's main output."""
    layers: tuple[LayerSpec, ...]
    """The stage's layers in data-flow order."""
    pool_size: Size | None = None
    """Encoders: size after the 2x2 max-pool, passed one level down."""
    up_size: Size | None = None
    """Decoders: size after the 2x2 up-convolution."""
    up_channels: int | None = None
    """Decoders: channels after the up-convolution (half of the incoming ones)."""
    skip_from: str | None = None
    """Decoders: the encoder stage whose output is copied across."""
    skip_size: Size | None = None
    """Decoders: size of the copied map before cropping."""
    crop: Size | None = None
    """Decoders: pixels cropped from each border of the copied map, per axis (rows, columns[, slices])."""
    concat_channels: int | None = None
    """Decoders: channels after concatenating the cropped copy and the up-sampled map."""
    receptive_field: StageField | None = None
    """Smallest and largest receptive field of a unit of the stage's main output, (rows, columns)."""

    @property
    def params(self) -> int:
        """Weights plus biases of the stage."""
        return sum(layer.params for layer in self.layers)

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the stage."""
        return sum(layer.macs for layer in self.layers)

    @property
    def activation_bytes(self) -> int:
        """float32 bytes of the tensors the stage produces."""
        return sum(layer.activation_bytes for layer in self.layers)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (sizes as ``[H, W]`` lists); see the README's JSON contract."""
        data: dict[str, Any] = {
            "name": self.name,
            "path": self.path,
            "level": self.level,
            "in_size": list(self.in_size),
            "in_channels": self.in_channels,
            "conv_sizes": [list(s) for s in self.conv_sizes],
            "out_size": list(self.out_size),
            "channels": self.channels,
            "params": self.params,
            "macs": self.macs,
            "activation_bytes": self.activation_bytes,
        }
        if self.pool_size is not None:
            data["pool_size"] = list(self.pool_size)
        if self.up_size is not None:
            data.update(
                up_size=list(self.up_size),
                up_channels=self.up_channels,
                skip_from=self.skip_from,
                skip_size=list(self.skip_size or ()),
                crop=list(self.crop or ()),
                concat_channels=self.concat_channels,
            )
        if self.receptive_field is not None:
            data["receptive_field"] = self.receptive_field.as_dict()
        data["layers"] = [
            {
                "name": layer.name,
                "kind": layer.kind,
                "out_size": list(layer.out_size),
                "channels": layer.channels,
                "params": layer.params,
                "macs": layer.macs,
                "activation_bytes": layer.activation_bytes,
            }
            for layer in self.layers
        ]
        return data


@dataclass(frozen=True)
class Totals:
    """Whole-network figures."""

    params: int
    """Weights plus biases."""
    macs: int
    """Multiply-accumulates for one input tile."""
    activation_bytes: int
    """float32 bytes of all materialised activations for one tile."""
    output_size: Size
    """Spatial size of the output map."""
    context_margin: Size
    """Context pixels on each border of the input tile that the output does not cover, per axis."""
    conv_layers: int
    """Convolutional layers, counted as the paper does (3x3, up-convolutions and the 1x1)."""


@dataclass(frozen=True)
class UNetSpec:
    """Every stage of a U-Net, in data-flow order, with totals."""

    config: UNetConfig
    """The configuration the spec was built from."""
    stages: tuple[Stage, ...]
    """``enc1`` .. ``encD``, ``bottleneck``, ``decD`` .. ``dec1``, ``output``."""
    totals: Totals
    """Whole-network figures."""

    def stage(self, name: str) -> Stage:
        """The stage called ``name``."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    @property
    def layers(self) -> tuple[LayerSpec, ...]:
        """Every layer in data-flow order."""
        return tuple(layer for stage in self.stages for layer in stage.layers)

    def as_dict(self) -> dict[str, Any]:
        """The JSON contract: ``config``, ``stages`` and ``totals``."""
        return {
            "config": self.config.as_dict(),
            "stages": [stage.as_dict() for stage in self.stages],
            "totals": {
                "params": self.totals.params,
                "macs": self.totals.macs,
                "activation_bytes": self.totals.activation_bytes,
                "output_size": list(self.totals.output_size),
                "context_margin": list(self.totals.context_margin),
                "conv_layers": self.totals.conv_layers,
            },
        }
