"""Audit any Keras U-Net against the paper: walk its graph, recognise its parts, name each deviation.

The walk reads the functional graph only (layers and their inbound
connections), never the weights' values:

* the max-poolings mark the contracting levels, the up-sampling layers
  (transposed convolutions or ``UpSampling2D``) the expansive ones;
* each ``Concatenate`` is a skip connection: one input leads back to an
  up-sampling layer (the up-sampled map), the other to the copied map, through
  whatever matches its size (``Cropping2D``, ``Resizing``, ``ZeroPadding2D``,
  a ``Lambda``) and possibly normalisation, activation or dropout layers;
* the copied map's source tells whether the copy is taken before or after the
  pooling;
* the last layers tell the head: a softmax, a sigmoid, or plain logits.

Everything found is compared with the paper network of the same input size and
depth, computed by the spec, and each difference becomes one line saying what
it changes for a learner.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unet_explain.core import arithmetic as ar
from unet_explain.errors import UNetExplainError

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig
    from unet_explain.core.spec import UNetSpec


class AuditError(UNetExplainError):
    """The model cannot be loaded or is not a recognisable U-Net."""


# --- the graph -----------------------------------------------------------------------


def _kind(layer: Any) -> str:
    return type(layer).__name__


def parents(layer: Any) -> list[Any]:
    """The layers whose outputs feed ``layer`` (Keras 3 functional graph)."""
    out = []
    for node in getattr(layer, "_inbound_nodes", [])[:1]:
        for tensor in node.input_tensors:
            out.append(tensor._keras_history.operation)
    return out


def children(layer: Any, members: set[int]) -> list[Any]:
    """The layers of the model that read ``layer``'s output."""
    return [n.operation for n in getattr(layer, "_outbound_nodes", []) if id(n.operation) in members]


CONV = {"Conv2D"}
POOL = {"MaxPooling2D", "AveragePooling2D"}
UPSAMPLE = {"Conv2DTranspose", "UpSampling2D"}
NORM = {"BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization"}
ACTIVATION = {"Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"}
DROPOUT = {"Dropout", "SpatialDropout2D", "GaussianDropout", "AlphaDropout"}
MATCH = {"Cropping2D", "Resizing", "ZeroPadding2D", "Lambda", "UpSampling2D"}
PASS = NORM | ACTIVATION | DROPOUT


@dataclass(frozen=True)
class SkipAudit:
    """One skip connection, as found."""

    level: int
    """Decoder level (1 = full resolution)."""
    concat: str
    """Name of the Concatenate layer."""
    source: str
    """Name of the layer whose output is copied."""
    taken: str
    """"before pooling", "after pooling" or "elsewhere"."""
    match: str
    """How the copy is matched to the up-sampled map: "crop 88", "resize", "pad", "none"."""
    upsampling: str
    """The up-sampling on the other input: "transposed conv 2x2, stride 2", "bilinear up-sampling x2", ..."""
    after_upsampling: str
    """Activation between the up-sampling and the concatenation: "none" or e.g. "relu"."""
    copy_first: bool
    """Whether the copied map comes first in the concatenation."""


@dataclass(frozen=True)
class Deviation:
    """One way the model departs from the paper."""

    aspect: str
    """What is compared (``conv padding``)."""
    found: str
    """What the model does."""
    paper: str
    """What the paper does."""
    meaning: str
    """What it changes, for a learner."""


@dataclass
class AuditReport:
    """Everything the audit found, and how it compares with the paper."""

    name: str
    """The model's name."""
    input_size: tuple[int, int]
    """Input (height, width)."""
    in_channels: int
    """Input channels."""
    output_size: tuple[int, int]
    """Output (height, width)."""
    num_classes: int
    """Output channels."""
    params: int
    """Parameters (weights, biases and normalisation statistics)."""
    depth: int
    """Number of poolings."""
    paddings: list[str]
    """Padding of the 3x3 convolutions (distinct values)."""
    level_channels: list[int]
    """Channels of the contracting levels and the bottleneck, top to bottom."""
    skips: list[SkipAudit]
    """Skip connections, from the deepest level up."""
    normalisation: dict[str, int]
    """Normalisation layers by type."""
    dropout: list[str]
    """Where dropout is applied (layer names)."""
    initialiser: str
    """The 3x3 convolutions' kernel initialiser, described."""
    head: str
    """"softmax", "sigmoid" or "logits"."""
    paper: UNetSpec | None = None
    """The paper network it is compared with (None if none exists for this size and depth)."""
    paper_note: str = ""
    """How the paper network was chosen."""
    deviations: list[Deviation] = field(default_factory=list)
    """Every difference from the paper."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "input_size": list(self.input_size),
            "in_channels": self.in_channels,
            "output_size": list(self.output_size),
            "num_classes": self.num_classes,
            "params": self.params,
            "depth": self.depth,
            "paddings": self.paddings,
            "level_channels": self.level_channels,
            "skips": [vars(s) for s in self.skips],
            "normalisation": self.normalisation,
            "dropout": self.dropout,
            "initialiser": self.initialiser,
            "head": self.head,
            "paper_note": self.paper_note,
            "deviations": [vars(d) for d in self.deviations],
        }


# --- loading ---------------------------------------------------------------------------


def load_model(target: str) -> Any:
    """A Keras model from a ``.keras`` file, or from ``file.py:function`` / ``package.module:function``."""
    from unet_explain.model.keras_unet import load_keras

    keras = load_keras()
    path = Path(target)
    if target.endswith((".keras", ".h5")):
        if not path.is_file():
            raise AuditError(f"MODEL {target!r}: no such file")
        try:
            return keras.models.load_model(path, compile=False, safe_mode=False)
        except Exception as err:
            raise AuditError(f"MODEL {target!r} is not a Keras model file ({type(err).__name__}: {err})") from None
    module_name, sep, func_name = target.rpartition(":")
    if not sep or not module_name or not func_name:
        raise AuditError(
            f"MODEL {target!r}: give a saved model (model.keras) or a factory (path/to/file.py:function "
            "or package.module:function)"
        )
    try:
        if module_name.endswith(".py"):
            file = Path(module_name)
            if not file.is_file():
                raise AuditError(f"MODEL {target!r}: no such file {module_name!r}")
            spec = importlib.util.spec_from_file_location(f"_unet_audit_{file.stem}", file)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except AuditError:
        raise
    except Exception as err:
        raise AuditError(f"MODEL {target!r}: importing {module_name!r} failed ({type(err).__name__}: {err})") from None
    factory = getattr(module, func_name, None)
    if not callable(factory):
        raise AuditError(f"MODEL {target!r}: {module_name!r} has no function {func_name!r}")
    try:
        model = factory()
    except Exception as err:
        raise AuditError(f"MODEL {target!r}: the factory raised {type(err).__name__}: {err}") from None
    if not isinstance(model, keras.Model):
        raise AuditError(f"MODEL {target!r}: the factory returned a {type(model).__name__}, not a Keras model")
    return model


# --- the walk ----------------------------------------------------------------------------


def _describe_upsampling(layer: Any) -> str:
    config = layer.get_config()
    if _kind(layer) == "Conv2DTranspose":
        k, s = config["kernel_size"], config["strides"]
        return f"transposed conv {k[0]}x{k[1]}, stride {s[0]}"
    size = config.get("size", (2, 2))
    return f"{config.get('interpolation', 'nearest')} up-sampling x{size[0]}"


def _activation_of(layer: Any) -> str | None:
    config = layer.get_config()
    if _kind(layer) in ("Activation",):
        return str(config["activation"])
    if _kind(layer) in ("ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"):
        return _kind(layer).lower()
    activation = config.get("activation")
    return None if activation in (None, "linear") else str(activation)


def _trace_up(layer: Any) -> tuple[Any, list[Any]] | None:
    """Walk back from a concat input to an up-sampling layer; return it and the layers in between."""
    between: list[Any] = []
    current = layer
    while True:
        if _kind(current) in UPSAMPLE:
            return current, between
        ins = parents(current)
        if len(ins) != 1 or _kind(current) not in PASS | CONV | {"ZeroPadding2D", "Cropping2D"}:
            return None
        between.append(current)
        current = ins[0]


def _trace_copy(layer: Any) -> tuple[Any, list[Any]]:
    """Walk back from a concat input through size-matching and pass-through layers to the copied map."""
    matched = []
    current = layer
    while _kind(current) in MATCH | PASS and len(parents(current)) == 1:
        matched.append(current)
        current = parents(current)[0]
    return current, matched


def _feeds_pool(layer: Any, members: set[int]) -> bool:
    frontier = [layer]
    while frontier:
        current = frontier.pop()
        for child in children(current, members):
            if _kind(child) in POOL:
                return True
            if _kind(child) in PASS:
                frontier.append(child)
    return False


def _describe_match(matched: list[Any], up_between: list[Any]) -> str:
    kinds = [_kind(m) for m in matched]
    if "Cropping2D" in kinds:
        crop = matched[kinds.index("Cropping2D")].get_config()["cropping"]
        (top, bottom), (left, right) = crop
        return f"crop {top}" if top == bottom == left == right else f"crop {top},{bottom},{left},{right}"
    if "Resizing" in kinds or "UpSampling2D" in kinds:
        return "resize"
    if "Lambda" in kinds:
        return "Lambda (resize or other)"
    if "ZeroPadding2D" in kinds or any(_kind(u) == "ZeroPadding2D" for u in up_between):
        return "pad"
    return "none"


def _initialiser(conv: Any) -> str:
    init = conv.get_config().get("kernel_initializer") or {}
    name = init.get("class_name", "") if isinstance(init, dict) else str(init)
    config = init.get("config", {}) if isinstance(init, dict) else {}
    if name == "RandomNormal":
        return f"Gaussian, std {config.get('stddev', 0):.4g}"
    if name == "VarianceScaling":
        return f"variance scaling (scale {config.get('scale')}, {config.get('mode')}, {config.get('distribution')})"
    return {
        "GlorotUniform": "Glorot uniform (Keras's default)",
        "HeNormal": "He normal (truncated Gaussian)",
        "HeUniform": "He uniform",
    }.get(name, name or "unknown")


def audit_model(model: Any, reference: UNetConfig | None = None) -> AuditReport:
    """Recognise the parts of a Keras U-Net and compare them with the paper.

    The paper network compared with has the model's input size and depth; its
    filters, input channels and classes come from ``reference`` (default: the
    paper's 64 filters, 1 channel, the model's classes).
    """
    layers = list(model.layers)
    members = {id(layer) for layer in layers}
    kinds = [_kind(layer) for layer in layers]
    if any(_kind(layer) in ("Functional", "Sequential", "Model") for layer in layers):
        raise AuditError("the model nests other models; flatten it into one functional graph to audit it")
    pools = [layer for layer in layers if _kind(layer) in POOL]
    concats = [layer for layer in layers if _kind(layer) == "Concatenate"]
    if not concats:
        raise AuditError(
            f"{model.name!r} is not a recognisable U-Net: it has no skip connections (no Concatenate layer "
            "joining a copied map with an up-sampled one)"
        )
    if not pools:
        raise AuditError(f"{model.name!r} is not a recognisable U-Net: it has no pooling, so no contracting path")
    if not any(k in UPSAMPLE for k in kinds):
        raise AuditError(f"{model.name!r} is not a recognisable U-Net: it has no up-sampling layer")

    # Contracting levels and bottleneck: the 3x3 convolutions between poolings.
    convs3 = [layer for layer in layers if _kind(layer) in CONV and layer.get_config()["kernel_size"][0] > 1]
    index = {id(layer): i for i, layer in enumerate(layers)}
    first_up = min(index[id(layer)] for layer in layers if _kind(layer) in UPSAMPLE)
    bounds = [index[id(p)] for p in pools] + [first_up]
    level_channels, start = [], -1
    for bound in bounds:
        segment = [c for c in convs3 if start < index[id(c)] < bound]
        if segment:
            level_channels.append(int(segment[-1].get_config()["filters"]))
        start = bound

    skips = []
    for j, concat in enumerate(concats):
        ins = parents(concat)
        if len(ins) != 2:
            raise AuditError(f"{concat.name!r} joins {len(ins)} maps; a U-Net skip connection joins two")
        ups = [_trace_up(layer) for layer in ins]
        up_side = next((i for i, u in enumerate(ups) if u is not None), None)
        if up_side is None:
            raise AuditError(f"{concat.name!r}: neither input comes from an up-sampling layer")
        up_layer, between = ups[up_side]  # type: ignore[misc]
        source, matched = _trace_copy(ins[1 - up_side])
        if _kind(source) in POOL:
            taken = "after pooling"
        elif _feeds_pool(source, members):
            taken = "before pooling"
        else:
            taken = "elsewhere"
        convs_after = [b for b in between if _kind(b) in CONV]
        after = [a for a in (_activation_of(up_layer), *(_activation_of(b) for b in between)) if a]
        upsampling = _describe_upsampling(up_layer)
        if convs_after:
            k = convs_after[0].get_config()["kernel_size"]
            upsampling += f", then conv {k[0]}x{k[1]}"
        skips.append(
            SkipAudit(
                level=len(concats) - j,
                concat=concat.name,
                source=source.name,
                taken=taken,
                match=_describe_match(matched, between),
                upsampling=upsampling,
                after_upsampling=", ".join(after) or "none",
                copy_first=up_side == 1,
            )
        )

    head = "logits"
    for layer in reversed(layers):
        activation = _activation_of(layer)
        if activation in ("softmax", "sigmoid"):
            head = activation
            break
        if _kind(layer) not in ACTIVATION | DROPOUT:
            break
    in_shape, out_shape = tuple(model.input.shape), tuple(model.output.shape)
    report = AuditReport(
        name=model.name,
        input_size=(int(in_shape[1] or 0), int(in_shape[2] or 0)),
        in_channels=int(in_shape[3]),
        output_size=(int(out_shape[1] or 0), int(out_shape[2] or 0)),
        num_classes=int(out_shape[3]),
        params=int(model.count_params()),
        depth=len(pools),
        paddings=sorted({c.get_config()["padding"] for c in convs3}),
        level_channels=level_channels,
        skips=skips,
        normalisation={k: kinds.count(k) for k in sorted(NORM) if k in kinds},
        dropout=[layer.name for layer in layers if _kind(layer) in DROPOUT],
        initialiser=_initialiser(convs3[0]) if convs3 else "unknown",
        head=head,
    )
    _compare_with_paper(report, reference)
    return report


# --- against the paper -------------------------------------------------------------------


def _paper_for(report: AuditReport, reference: UNetConfig | None) -> tuple[UNetSpec | None, str]:
    from unet_explain.config import UNetConfig
    from unet_explain.core.spec import build_spec

    depth = report.depth
    if not 1 <= depth <= 6 or min(report.input_size) < 1:
        return None, f"no paper network to compare with (depth {depth})"
    sides = []
    moved = False
    for side in report.input_size:
        below, above = ar.nearest_valid_sides(side, depth, "valid")
        if ar.is_valid_side(side, depth, "valid"):
            sides.append(side)
            continue
        choice = above if above is not None else below
        if choice is None:
            return None, f"no valid paper tile near {report.input_size}"
        sides.append(choice)
        moved = True
    base = reference or UNetConfig(num_classes=max(report.num_classes, 2))
    config = UNetConfig(**(base.as_dict() | {"input_size": (sides[0], sides[1]), "depth": depth, "padding": "valid"}))
    note = (
        f"the paper network for a {sides[0]}x{sides[1]} tile (the nearest valid size to "
        f"{report.input_size[0]}x{report.input_size[1]})"
        if moved
        else f"the paper network for the same {sides[0]}x{sides[1]} tile"
    )
    return build_spec(config), (
        f"{note}, depth {depth}, {config.base_filters} base filters, {config.in_channels} input "
        f"channel{'s' if config.in_channels > 1 else ''}, {config.num_classes} classes"
    )


def _compare_with_paper(report: AuditReport, reference: UNetConfig | None) -> None:
    spec, report.paper_note = _paper_for(report, reference)
    report.paper = spec
    add = report.deviations.append
    if report.paddings != ["valid"]:
        add(
            Deviation(
                "conv padding",
                "/".join(report.paddings),
                "valid (no padding)",
                "sizes no longer shrink and nothing needs cropping; pixels near every border are computed "
                "partly from invented zeros",
            )
        )
    paper_crops = {}
    if spec is not None:
        paper_crops = {s.level: s.crop for s in spec.stages if s.crop is not None}
    per_level: list[tuple[int, Deviation]] = []
    for skip in report.skips:
        crop = paper_crops.get(skip.level)
        expected = f"crop {crop[0]}" if crop else "centre crop"
        level = skip.level
        if skip.taken != "before pooling":
            per_level.append(
                (
                    level,
                    Deviation(
                        "skip connection source",
                        f"the map {skip.taken}",
                        "the map before pooling",
                        "the copy has half the resolution, so the fine detail the skip connection exists to "
                        "carry is already lost",
                    ),
                )
            )
        if skip.match.startswith("crop"):
            if crop and skip.match != expected and report.paddings == ["valid"]:
                per_level.append(
                    (level, Deviation("skip size matching", skip.match, expected, "the copy is not centred"))
                )
        elif skip.match == "resize" or skip.match.startswith("Lambda"):
            per_level.append(
                (
                    level,
                    Deviation(
                        "skip size matching",
                        f"{skip.match} of the copy",
                        "centre crop",
                        "resizing stretches the copy, so its pixels no longer sit over the pixels they describe",
                    ),
                )
            )
        elif skip.match == "pad":
            per_level.append(
                (level, Deviation("skip size matching", "zero padding", "centre crop", "padding adds invented zeros"))
            )
        if not skip.upsampling.startswith("transposed conv 2x2, stride 2"):
            per_level.append(
                (
                    level,
                    Deviation(
                        "up-sampling",
                        skip.upsampling,
                        "transposed conv 2x2, stride 2",
                        "a fixed interpolation replaces the learned up-convolution"
                        if "up-sampling" in skip.upsampling
                        else "another learned up-sampling; sizes and parameters change",
                    ),
                )
            )
        if skip.after_upsampling != "none":
            per_level.append(
                (
                    level,
                    Deviation(
                        "after up-sampling",
                        skip.after_upsampling,
                        "none",
                        "an activation on the up-sampled map (as in the authors' Caffe release, not the paper's "
                        "text); sizes and parameters do not change",
                    ),
                )
            )
        if not skip.copy_first:
            per_level.append(
                (
                    level,
                    Deviation(
                        "concatenation order",
                        "up-sampled map first",
                        "cropped copy first",
                        "as in the Caffe release; shapes and parameter count are the same",
                    ),
                )
            )
    merged: dict[Deviation, list[int]] = {}
    for level, deviation in per_level:
        merged.setdefault(deviation, []).append(level)
    for deviation, levels in merged.items():
        which = (
            f"all {len(levels)} levels"
            if len(levels) == len(report.skips)
            else "level" + ("s " if len(levels) > 1 else " ") + ", ".join(map(str, sorted(levels)))
        )
        add(Deviation(f"{deviation.aspect} ({which})", deviation.found, deviation.paper, deviation.meaning))
    if not report.initialiser.startswith("Gaussian"):
        add(
            Deviation(
                "initialisation",
                report.initialiser,
                "Gaussian, std sqrt(2/N), N = inputs of one neuron",
                "a different starting point for training; no size or parameter changes",
            )
        )
    if report.normalisation:
        found = ", ".join(f"{n} {k}" for k, n in report.normalisation.items())
        add(
            Deviation(
                "normalisation",
                found,
                "none",
                "not in the paper (batch normalisation came later): 4 numbers per channel each, and different "
                "training dynamics",
            )
        )
    if report.head != "softmax":
        add(
            Deviation(
                "head",
                report.head,
                "1x1 conv, then softmax over classes",
                "the model outputs raw scores; the loss must apply the softmax"
                if report.head == "logits"
                else "a sigmoid per channel: independent yes/no maps instead of one distribution over classes",
            )
        )
    paper_in = spec.config.in_channels if spec is not None else 1
    if report.in_channels != paper_in:
        add(
            Deviation(
                "input channels",
                str(report.in_channels),
                f"{paper_in}" + (" (grey-scale)" if paper_in == 1 else ""),
                "only the first convolution grows (9 weights per extra channel per filter)",
            )
        )
    if spec is None:
        return
    paper_channels = [spec.stage(f"enc{k}").channels for k in range(1, spec.config.depth + 1)]
    paper_channels.append(spec.stage("bottleneck").channels)
    if report.level_channels != paper_channels:
        add(
            Deviation(
                "channels per level",
                ", ".join(map(str, report.level_channels)),
                ", ".join(map(str, paper_channels)),
                "a narrower or wider network: the parameter count scales with the square of the channels",
            )
        )
    if report.depth != 4:
        add(Deviation("depth", str(report.depth), "4 poolings", "a different number of levels"))
    if report.output_size != spec.totals.output_size:
        (ih, iw), (oh, ow) = report.input_size, report.output_size
        (ph, pw), (qh, qw) = spec.config.input_size, spec.totals.output_size
        add(
            Deviation(
                "output size",
                f"{oh}x{ow} from a {ih}x{iw} tile",
                f"{qh}x{qw} from a {ph}x{pw} tile",
                "the output covers a different share of the input tile: "
                + ("no context margin, the borders are padded" if (oh, ow) == (ih, iw) else "another margin"),
            )
        )
    if report.params != spec.totals.params:
        add(
            Deviation(
                "parameters",
                f"{report.params:,}",
                f"{spec.totals.params:,}",
                "what the choices above add up to",
            )
        )


def _levels(values: list[str]) -> str:
    """One value if every level agrees, else the value per level (deepest first)."""
    return values[0] if len(set(values)) == 1 else " / ".join(values)


def summarise(report: AuditReport) -> dict[str, str]:
    """The audit's findings as short strings, one per aspect (rows of ``unet-explain compare``)."""
    skips = report.skips
    return {
        "input tile": f"{report.input_size[0]}x{report.input_size[1]}x{report.in_channels}",
        "output map": f"{report.output_size[0]}x{report.output_size[1]}x{report.num_classes}",
        "parameters": f"{report.params:,}",
        "conv padding": "/".join(report.paddings),
        "skip copies the map": _levels([s.taken for s in skips]),
        "copy matched by": _levels([s.match for s in skips]),
        "up-sampling": _levels([s.upsampling for s in skips]),
        "after up-sampling": _levels([s.after_upsampling for s in skips]),
        "concatenation": _levels(["copy first" if s.copy_first else "up-sampled first" for s in skips]),
        "normalisation": ", ".join(f"{n} {k}" for k, n in report.normalisation.items()) or "none",
        "dropout": ", ".join(report.dropout) or "none",
        "initialisation": report.initialiser,
        "head": report.head,
        "deviations from the paper": str(len(report.deviations)),
    }
