"""What an audit returns: the parts found, the deviations, the notes and the task settings.

Plain data, no Keras: the renderers and the JSON read these classes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from unet_explain.errors import UNetExplainError

if TYPE_CHECKING:
    from unet_explain.core.spec import UNetSpec


class AuditError(UNetExplainError):
    """Bad input: the model spec, the file, or a model that is not a recognisable U-Net (exit 2)."""


class ModelLoadError(AuditError):
    """Keras or the user's factory failed on something that exists (exit 1: a runtime failure)."""

    exit_code = 1


class RecognitionError(AuditError):
    """The audit itself failed on a model it loaded and traced (exit 1: a runtime failure, to be reported)."""

    exit_code = 1


@dataclass(frozen=True)
class SkipAudit:
    """One skip connection, as found."""

    level: int
    """Decoder level (1 = full resolution)."""
    concat: str
    """Name of the concatenation."""
    source: str
    """Name of the layer whose output is copied."""
    taken: str
    """"before pooling" (the map fed to the down-sampling), "after pooling" or "elsewhere"."""
    match: str
    """How the copy is matched to the up-sampled map: "crop 88", "resize", "pad", "none"."""
    upsampling: str
    """The up-sampling on the other input: "transposed conv 2x2, stride 2", "bilinear up-sampling x2", ..."""
    after_upsampling: str
    """Activation between the up-sampling and the concatenation: "none" or e.g. "relu"."""
    copy_first: bool
    """Whether the copied map comes first in the concatenation."""
    up_channels: tuple[int, int]
    """Channels into and out of the up-sampling branch (the paper halves them: 1024 -> 512)."""
    copy_channels: int
    """Channels of the copied map (the paper's up-sampled map is as wide)."""


@dataclass(frozen=True)
class Deviation:
    """One way the model departs from the paper; ``aspect`` is a key of :data:`aspects.ASPECTS`."""

    aspect: str
    """Stable key (``padding``, ``downsampling``, ...)."""
    found: str
    """What the model does."""
    paper: str
    """What the paper does."""
    meaning: str
    """What it changes, for a learner."""


@dataclass(frozen=True)
class Note:
    """A difference that changes nothing that matters (same shapes, same function), said once."""

    aspect: str
    """Stable key, as for a deviation."""
    text: str
    """What differs and why it does not matter."""


@dataclass
class AuditReport:
    """Everything the audit found, and how it compares with the paper."""

    name: str
    """The model's name."""
    input_size: tuple[int, int]
    """Input (height, width) the graph was traced at."""
    in_channels: int
    """Input channels."""
    output_size: tuple[int, int]
    """Output (height, width)."""
    num_classes: int
    """Output channels."""
    params: int
    """Parameters (weights, biases and normalisation statistics)."""
    depth: int
    """Number of down-sampling steps to the deepest level."""
    paddings: list[str]
    """Padding of the convolutions larger than 1x1 (distinct values)."""
    level_channels: list[int]
    """Channels of the contracting levels and the bottleneck, top to bottom."""
    skips: list[SkipAudit]
    """Skip connections, from the deepest level up."""
    normalisation: dict[str, int]
    """Normalisation layers by type."""
    dropout: list[str]
    """Dropout layers: "name (Type rate, stage)"."""
    initialiser: str
    """The convolutions' kernel initialiser, as the rule it follows."""
    head: str
    """"softmax", "sigmoid" or "logits"."""
    dropout_places: list[tuple[str, str, str]] = field(default_factory=list)
    """Dropout layers as (type, rate, stage), e.g. ("Dropout", "0.5", "enc4"); rate "" when unknown."""
    size_note: str = ""
    """How the traced input size was chosen when the model does not fix one ("" when it does)."""
    paper: UNetSpec | None = None
    """The paper network it is compared with (None if none exists for this depth)."""
    paper_note: str = ""
    """How the paper network was chosen."""
    deviations: list[Deviation] = field(default_factory=list)
    """Every difference from the paper that changes sizes, parameters or behaviour."""
    notes: list[Note] = field(default_factory=list)
    """Differences that change nothing (e.g. the concatenation order)."""
    param_sources: dict[str, int] = field(default_factory=dict)
    """The parameter difference from the paper network, by the aspect (or setting) that causes it."""
    details: dict[str, str] = field(default_factory=dict)
    """What was found, one short string per aspect key (also for aspects that match the paper)."""

    def params_account(self) -> str:
        """The parameter count as a sum: the paper network's, then each aspect's difference (the sum holds)."""
        if self.paper is None or self.params == self.paper.totals.params:
            return f"{self.params:,}" + (" (the same as the paper network)" if self.paper is not None else "")
        from unet_explain.model.audit.aspects import title

        paper = self.paper.totals.params
        terms = [(title(k), n) for k, n in self.param_sources.items() if n]
        rest = self.params - paper - sum(n for _, n in terms)
        if rest:  # the account attributes everything; should a remainder appear, it is shown, never hidden
            terms.append(("not attributed", rest))
        return f"{self.params:,} = {paper:,} (the paper network)" + "".join(
            f" {'+' if n > 0 else '-'} {abs(n):,} ({name})" for name, n in terms
        )

    @property
    def config(self) -> dict[str, Any]:
        """The task settings: input channels, classes, input size (not deviations)."""
        paper_params = self.paper.totals.params if self.paper is not None else None
        return {
            "input_size": list(self.input_size),
            "input_size_note": self.size_note,
            "in_channels": self.in_channels,
            "num_classes": self.num_classes,
            "output_size": list(self.output_size),
            "params": self.params,
            "paper_params": paper_params,
            "params_by_aspect": dict(self.param_sources),
            "compared_with": self.paper_note,
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the contract documented in the README)."""
        return {
            "name": self.name,
            "deviations": [
                {"aspect": d.aspect, "found": d.found, "paper": d.paper, "meaning": d.meaning} for d in self.deviations
            ],
            "notes": [{"aspect": n.aspect, "text": n.text} for n in self.notes],
            "config": self.config,
            "found": dict(self.details),
            "depth": self.depth,
            "level_channels": self.level_channels,
            "skips": [{**vars(s), "up_channels": list(s.up_channels)} for s in self.skips],
            "normalisation": self.normalisation,
            "dropout": self.dropout,
            "initialiser": self.initialiser,
            "head": self.head,
            # Kept at the top level for readers of the earlier format.
            "input_size": list(self.input_size),
            "in_channels": self.in_channels,
            "output_size": list(self.output_size),
            "num_classes": self.num_classes,
            "params": self.params,
            "paddings": self.paddings,
            "paper_note": self.paper_note,
        }
