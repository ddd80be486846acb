"""The analytic spec: every stage and layer of the U-Net as plain numbers.

This is the package's single source of truth. It is built from a
:class:`~unet_explain.config.UNetConfig` with nothing but integer arithmetic
(no TensorFlow, no numpy), and every renderer, the diagram, the docs and the
Keras cross-check read it; none of them recomputes a size.

Counting conventions (the same as ``../shared``'s reference and the paper):

* parameters are weights plus biases;
* multiply-accumulates (MACs): a KxK convolution costs
  ``out_h * out_w * K * K * C_in * C_out``; a 2x2 stride-2 up-convolution gives
  each output pixel one tap per input channel, ``out_h * out_w * C_in * C_out``;
  pooling, cropping and concatenation cost none;
* activation memory counts the float32 outputs of every convolution, pooling and
  up-convolution and the score map; ReLU and softmax work in place, and the crop
  and concatenation are views that are not materialised. This is a convention
  and a lower bound, not a paper fact: Keras's ``Cropping2D`` and
  ``Concatenate`` do allocate (232 MB more for the paper's tile), and what a
  training step or inference really holds is counted by
  :mod:`unet_explain.core.memory`;
* with batch normalisation (``norm="batch"``, the 3D U-Net), each 3x3 convolution
  is followed by a ``<conv>_bn`` layer: its output is materialised (the
  convolution's output is still needed), it costs no MACs in this count, and its
  parameters are what Keras counts: 2 trainable values per channel (gamma, beta)
  and 2 moving statistics (mean, variance).

Every size is a tuple with one entry per spatial axis: (rows, columns) for an
image, (rows, columns, slices) for a volume; the layers of a volume are the 3D
forms (3x3x3 convolutions, 2x2x2 pooling and up-convolutions), and the kinds
keep their 2D names.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from unet_explain.core import arithmetic as ar
from unet_explain.core import names
from unet_explain.core.receptive_field import stage_fields
from unet_explain.core.stages import (
    BATCHNORM,
    CONCAT,
    CONV1X1,
    CONV3X3,
    CROP,
    MAXPOOL,
    SOFTMAX,
    UPCONV,
    LayerSpec,
    Size,
    Stage,
    StageField,
    Totals,
    UNetSpec,
)

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig

__all__ = [
    "BATCHNORM",
    "CONCAT",
    "CONV1X1",
    "CONV3X3",
    "CROP",
    "MAXPOOL",
    "SOFTMAX",
    "UPCONV",
    "LayerSpec",
    "Size",
    "Stage",
    "StageField",
    "Totals",
    "UNetSpec",
    "build_spec",
]


def _layer(
    name: str, kind: str, size: Size, channels: int, params: int = 0, macs: int = 0, stored: bool = True
) -> LayerSpec:
    return LayerSpec(
        name=name,
        kind=kind,
        out_size=size,
        channels=channels,
        params=params,
        macs=macs,
        activation_bytes=ar.map_bytes(size, channels) if stored else 0,
    )


def _conv3x3(name: str, size: Size, c_in: int, c_out: int) -> LayerSpec:
    return _layer(
        name,
        CONV3X3,
        size,
        c_out,
        params=ar.conv_params(ar.KERNEL, c_in, c_out, len(size)),
        macs=ar.conv_macs_nd(ar.KERNEL, size, c_in, c_out),
    )


def build_spec(config: UNetConfig) -> UNetSpec:
    """Compute every stage of the U-Net described by ``config``."""
    from unet_explain.config import UNetConfig

    if not isinstance(config, UNetConfig):
        from unet_explain.errors import ConfigError, shown

        raise ConfigError("config", f"must be a UNetConfig, e.g. UNetConfig(input_size=572); got {shown(config)}")
    depth, dims = config.depth, len(config.input_size)
    traces = [ar.trace_side(n, depth, config.padding, dims) for n in config.input_size]
    schedule, base = config.channel_schedule, config.base_filters

    def size(layer_name: str) -> Size:
        return tuple(trace.sizes[layer_name] for trace in traces)

    stages: list[Stage] = []
    in_size: Size = config.input_size
    c_in = config.in_channels

    def conv_stack(stage: str, c_first: int, outs: tuple[int, ...]) -> tuple[list[LayerSpec], list[LayerSpec]]:
        """The stage's 3x3 convolutions, and all its layers (with a batch norm after each if asked)."""
        convs, layers = [], []
        c = c_first
        for i, c_out in enumerate(outs, start=1):
            name = names.conv(stage, i)
            conv = _conv3x3(name, size(name), c, c_out)
            convs.append(conv)
            layers.append(conv)
            if config.norm == "batch":
                layers.append(_layer(f"{name}_bn", BATCHNORM, conv.out_size, c_out, ar.batchnorm_params(c_out)))
            c = c_out
        return convs, layers

    def make_stage(name: str, path: str, level: int, convs: list[LayerSpec], **extra: Any) -> Stage:
        """A stage whose sizes and channels follow from its convolutions."""
        return Stage(
            name=name,
            path=path,
            level=level,
            in_size=in_size,
            in_channels=c_in,
            conv_sizes=tuple(layer.out_size for layer in convs),
            out_size=convs[-1].out_size,
            channels=convs[-1].channels,
            **extra,
        )

    for level in range(1, depth + 1):
        stage = names.encoder(level)
        convs, layers = conv_stack(stage, c_in, ar.encoder_channels(schedule, base, level))
        c_out = convs[-1].channels
        pool_name = names.layer(stage, "pool")
        pool = _layer(pool_name, MAXPOOL, size(pool_name), c_out)
        stages.append(
            make_stage(stage, names.CONTRACTING, level, convs, layers=(*layers, pool), pool_size=pool.out_size)
        )
        in_size, c_in = pool.out_size, c_out

    convs, layers = conv_stack(names.BOTTLENECK, c_in, ar.encoder_channels(schedule, base, depth + 1))
    stages.append(make_stage(names.BOTTLENECK, names.BOTTLENECK, depth + 1, convs, layers=tuple(layers)))
    in_size, c_in = convs[-1].out_size, convs[-1].channels

    for level in range(depth, 0, -1):
        stage = names.decoder(level)
        c_up, c_out = ar.decoder_channels(schedule, base, level, c_in)
        skip = stages[level - 1]
        up_name = names.layer(stage, "upconv")
        up_size = size(up_name)
        up = _layer(
            up_name,
            UPCONV,
            up_size,
            c_up,
            params=ar.conv_params(ar.SCALE, c_in, c_up, dims),
            macs=ar.upconv_macs(up_size, c_in, c_up),
        )
        crop_name, concat_name = names.layer(stage, "crop"), names.layer(stage, "concat")
        crop = _layer(crop_name, CROP, size(crop_name), skip.channels, stored=False)
        concat = _layer(concat_name, CONCAT, size(concat_name), skip.channels + c_up, stored=False)
        convs, layers = conv_stack(stage, concat.channels, (c_out,) * ar.CONVS_PER_LEVEL)
        stages.append(
            make_stage(
                stage,
                names.EXPANSIVE,
                level,
                convs,
                layers=(up, crop, concat, *layers),
                up_size=up_size,
                up_channels=c_up,
                skip_from=skip.name,
                skip_size=skip.out_size,
                crop=tuple(trace.crops[stage] for trace in traces),
                concat_channels=concat.channels,
            )
        )
        in_size, c_in = convs[-1].out_size, c_out

    out_name = names.layer(names.OUTPUT, "conv")
    out_size = size(out_name)
    head = _layer(
        out_name,
        CONV1X1,
        out_size,
        config.num_classes,
        params=ar.conv_params(1, c_in, config.num_classes, dims),
        macs=ar.conv_macs_nd(1, out_size, c_in, config.num_classes),
    )
    softmax = _layer(names.layer(names.OUTPUT, "softmax"), SOFTMAX, out_size, config.num_classes, stored=False)
    stages.append(
        Stage(
            name=names.OUTPUT,
            path=names.OUTPUT,
            level=1,
            in_size=in_size,
            in_channels=c_in,
            conv_sizes=(),
            out_size=out_size,
            channels=config.num_classes,
            layers=(head, softmax),
        )
    )

    fields = stage_fields(stages, config.input_size, config.padding)
    stages = [replace(stage, receptive_field=fields[stage.name]) for stage in stages]

    all_layers = [layer for stage in stages for layer in stage.layers]
    totals = Totals(
        params=sum(layer.params for layer in all_layers),
        macs=sum(layer.macs for layer in all_layers),
        activation_bytes=sum(layer.activation_bytes for layer in all_layers),
        output_size=out_size,
        context_margin=tuple(trace.margin for trace in traces),
        conv_layers=sum(layer.kind in (CONV3X3, UPCONV, CONV1X1) for layer in all_layers),
    )
    return UNetSpec(config=config, stages=tuple(stages), totals=totals)
