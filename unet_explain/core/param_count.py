"""Where a U-Net's parameter count comes from, term by term, and why papers' totals differ from Keras's.

The 3D U-Net paper (Cicek et al. 2016) reports 19,069,955 parameters. The
spec counts weights and biases of every 3x3x3 convolution, of every 2x2x2
up-convolution and of the 1x1x1 head, which gives a larger total; the
difference is exactly the up-convolutions' biases (one per output channel),
so the paper's figure counts up-convolutions without bias, and no batch
normalisation. Keras's ``count_params()`` adds, for each BatchNormalization
layer, a trainable scale and shift per channel (gamma, beta) and the moving
mean and variance it keeps for inference (not trainable).

This module derives that reconciliation from the spec (nothing is typed in but
the paper's reported figure, which is a fact to compare with), so the site can
show it for any configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unet_explain.core import arithmetic as ar
from unet_explain.core import spec as sp

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig

#: The 3D U-Net paper's reported parameter count (Cicek et al. 2016), for its network (``preset("3d-unet")``).
PAPER_3D_PARAMS = 19_069_955


@dataclass(frozen=True)
class ParamTerm:
    """One layer's parameters, written as the product it comes from."""

    layer: str
    """The layer's name (``enc1_conv1``)."""
    kind: str
    """The spec's layer kind."""
    formula: str
    """The arithmetic, e.g. ``3x3x3 x 3 x 32 + 32``."""
    weights: int
    """Kernel weights (0 for batch normalisation)."""
    biases: int
    """Biases (one per output channel)."""
    batchnorm: int
    """Batch normalisation values as Keras counts them (gamma, beta, moving mean and variance)."""

    @property
    def total(self) -> int:
        """What Keras counts for the layer."""
        return self.weights + self.biases + self.batchnorm


@dataclass(frozen=True)
class ParamReconciliation:
    """The parameter count of a network, split the ways papers and Keras count it."""

    terms: tuple[ParamTerm, ...]
    """Every layer with parameters, in data-flow order."""
    paper_reported: int | None
    """The paper's reported figure when the config is the 3D U-Net's network (with or without BN), else None."""

    def _sum(self, attribute: str, kind: str | None = None) -> int:
        return sum(getattr(t, attribute) for t in self.terms if kind is None or t.kind == kind)

    @property
    def weights(self) -> int:
        """All kernel weights."""
        return self._sum("weights")

    @property
    def biases(self) -> int:
        """All biases, up-convolutions included."""
        return self._sum("biases")

    @property
    def upconv_biases(self) -> int:
        """The up-convolutions' biases: one per output channel of each up-convolution."""
        return self._sum("biases", sp.UPCONV)

    @property
    def weights_and_biases(self) -> int:
        """Weights and biases of every convolution, up-convolution and the head (no BN)."""
        return self.weights + self.biases

    @property
    def without_upconv_biases(self) -> int:
        """The count with bias-free up-convolutions and no BN: the 3D paper's convention."""
        return self.weights_and_biases - self.upconv_biases

    @property
    def batchnorm_trainable(self) -> int:
        """BN's gamma and beta: half of what Keras counts for BN."""
        return self._sum("batchnorm") // 2

    @property
    def batchnorm_moving(self) -> int:
        """BN's moving mean and variance (not trainable): the other half."""
        return self._sum("batchnorm") // 2

    @property
    def keras_total(self) -> int:
        """``model.count_params()``: everything above, BN's four values per channel included."""
        return self.weights_and_biases + self.batchnorm_trainable + self.batchnorm_moving

    @property
    def trainable(self) -> int:
        """Trainable parameters in Keras (the moving statistics left out)."""
        return self.keras_total - self.batchnorm_moving

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "weights": self.weights,
            "biases": self.biases,
            "upconv_biases": self.upconv_biases,
            "weights_and_biases": self.weights_and_biases,
            "without_upconv_biases": self.without_upconv_biases,
            "batchnorm_trainable": self.batchnorm_trainable,
            "batchnorm_moving": self.batchnorm_moving,
            "keras_total": self.keras_total,
            "trainable": self.trainable,
            "paper_reported": self.paper_reported,
        }


def _term(layer: sp.LayerSpec, c_in: int, dims: int) -> ParamTerm:
    if layer.kind == sp.BATCHNORM:
        return ParamTerm(layer.name, layer.kind, f"4 x {layer.channels}", 0, 0, layer.params)
    kernel = {sp.CONV3X3: ar.KERNEL, sp.UPCONV: ar.SCALE, sp.CONV1X1: 1}[layer.kind]
    weights = kernel**dims * c_in * layer.channels
    formula = f"{ar.kernel_name(kernel, dims)} x {c_in} x {layer.channels} + {layer.channels}"
    return ParamTerm(layer.name, layer.kind, formula, weights, layer.params - weights, 0)


def reconcile(spec: sp.UNetSpec) -> ParamReconciliation:
    """Split ``spec``'s parameters into weights, biases (up-convolutions apart) and BN values."""
    from unet_explain.config import PRESETS

    dims = len(spec.config.input_size)
    terms = []
    c_in = spec.config.in_channels
    for layer in spec.layers:
        if layer.params:
            terms.append(_term(layer, c_in, dims))
        if layer.kind not in (sp.CROP, sp.BATCHNORM):  # the crop carries the copy's channels, not the main path's
            c_in = layer.channels
    paper = {k: v for k, v in PRESETS["3d-unet"].items() if k != "norm"}
    mine = {k: getattr(spec.config, k) for k in paper}
    return ParamReconciliation(tuple(terms), PAPER_3D_PARAMS if mine == paper else None)


def reconcile_config(config: UNetConfig) -> ParamReconciliation:
    """:func:`reconcile` for a config."""
    return reconcile(sp.build_spec(config))
