"""Audit any Keras U-Net against the paper: load it, flatten its graph, recognise its parts, name each deviation.

One job per module, each usable on its own:

* :mod:`.loading`: the model spec checked before Keras is imported; saved files
  in safe mode; factories run with their folder on the import path and their
  prints on stderr;
* :mod:`.graph`: the neutral graph (nodes with an op kind, attributes, shapes) the rest reads;
* :mod:`.keras_graph`: the Keras front end writing it: the model called on symbolic inputs, composites (nested
  models, ``Sequential`` blocks, custom layers, subclassed models) run in
  place, giving one flat graph of Keras layers and operations;
* :mod:`.parts`: levels, skip connections, down- and up-sampling,
  convolutions per stage, activations, normalisation, dropout, the head;
* :mod:`.aspects`: every aspect key and its wording, in one table;
* :mod:`.compare`, :mod:`.deviations`, :mod:`.params`: the comparison with the
  paper (the report, one check per group of aspects, the parameter account);
* :mod:`.report`: the plain-data result and its JSON form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unet_explain.model.audit.aspects import ASPECTS, title
from unet_explain.model.audit.compare import COMPARE_LEGEND, row_kinds, summarise
from unet_explain.model.audit.loading import load_model, parse_target
from unet_explain.model.audit.report import (
    AuditError,
    AuditReport,
    Deviation,
    ModelLoadError,
    Note,
    RecognitionError,
    SkipAudit,
)
from unet_explain.model.safe_mode import UNSAFE_HELP

if TYPE_CHECKING:
    from unet_explain.config import UNetConfig

__all__ = [
    "ASPECTS",
    "COMPARE_LEGEND",
    "UNSAFE_HELP",
    "AuditError",
    "AuditReport",
    "Deviation",
    "ModelLoadError",
    "Note",
    "RecognitionError",
    "SkipAudit",
    "audit_model",
    "load_model",
    "parse_target",
    "row_kinds",
    "summarise",
    "title",
]


def audit_model(
    model: Any,
    reference: UNetConfig | None = None,
    *,
    input_size: tuple[int, int] | None = None,
    in_channels: int | None = None,
) -> AuditReport:
    """Recognise the parts of a Keras U-Net and compare them with the paper.

    ``input_size`` (and ``in_channels``) are used only where the model leaves
    them open; without them an open size is traced at 572, or the nearest size
    the model accepts, and the report says which. The paper network compared
    with is always the paper's (depth 4) with, unless ``reference`` says
    otherwise, 64 base filters and the model's own input channels and classes.
    """
    from unet_explain.model.audit.compare import compare
    from unet_explain.model.audit.keras_graph import trace
    from unet_explain.model.audit.parts import recognise

    graph = trace(model, input_size, in_channels)
    try:
        return compare(recognise(graph), reference)
    except AuditError:
        raise
    except Exception as err:  # a model shape the recognition does not handle: one line, where, and what
        import traceback

        where = traceback.extract_tb(err.__traceback__)[-1]
        raise RecognitionError(
            f"{graph.name!r}: the audit could not read this model's structure ({type(err).__name__}: {err} at "
            f"{where.filename.rsplit('/', 1)[-1]}:{where.lineno}); please report it with the model"
        ) from None
