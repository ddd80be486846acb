"""Measure the audit on the corpus of real public U-Nets: recall, false aspects, refusals (issue 15).

Each model in ``tests/fixtures/corpus/`` carries its truth (``TRUTH``), written from
the source before the audit ever ran on it. This module audits every model through
the public API (``load_model("file.py:model")`` then ``audit_model``, as
``unet-explain audit`` does), compares the reported aspect keys with the truth and
prints the figures per model and per group:

    python -m tests.audit_corpus            # the report
    python -m tests.audit_corpus -o FILE    # the report, also written to FILE

Counting, by aspect key (an aspect reported several times counts once):

- recall: true deviations reported / true deviations (keys in ``TRUTH["deviations"]``);
- false aspects: reported keys that are neither true deviations nor in ``TRUTH["either"]``
  (aspects where the truth allows both answers, each with the reason);
- wrong refusal: a U-Net refused (any error), or a non-U-Net audited; a refusal of a
  non-U-Net must be one line;
- deviations that are hard to see from the graph (``TRUTH["hard_to_see"]``) are
  counted separately, never in the recall;
- wrong settings: the input size, channels, classes or output size the audit states that
  contradict ``TRUTH["config"]``, a total other than ``TRUTH["params"]`` (Keras's count), or a
  split by aspect that does not sum to the difference from the paper network.

Group A: models whose truth was committed before the audit first ran on any of them;
group B: added, or with a corrected truth, after that.
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"


def model_names() -> list[str]:
    """Every corpus model (files not starting with ``_``), sorted."""
    return sorted(p.stem for p in CORPUS.glob("[!_]*.py"))


def _literal(path: Path, variable: str) -> Any:
    """The literal value assigned to ``variable`` at the top of ``path``, read without running the file.

    So the truths and groups are known without importing Keras (collecting the tests stays light).
    """
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        if any(isinstance(t, ast.Name) and t.id == variable for t in targets) and node.value is not None:
            return ast.literal_eval(node.value)
    raise LookupError(f"{path} assigns no literal {variable}")


def truth_of(name: str) -> dict[str, Any]:
    """The module-level ``TRUTH`` of corpus model ``name``."""
    return dict(_literal(CORPUS / f"{name}.py", "TRUTH"))


def groups() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Group A and group B, as recorded in ``tests/fixtures/corpus/__init__.py``."""
    path = CORPUS / "__init__.py"
    return tuple(_literal(path, "GROUP_A")), tuple(_literal(path, "GROUP_B"))


@dataclass
class Result:
    """The audit of one corpus model against its truth."""

    name: str
    group: str
    unet: bool
    truth: set[str]
    either: set[str]
    hard: set[str]
    reported: set[str] = field(default_factory=set)
    refused: bool = False
    error: str = ""
    seconds: float = 0.0
    params_by_aspect: dict[str, int] = field(default_factory=dict)
    params: int | None = None
    """``count_params()`` of the model as built (None when the factory failed)."""
    params_truth: int = 0
    wrong_settings: list[str] = field(default_factory=list)
    """Task settings and totals the audit states that contradict the truth's ``config`` and ``params``, and a
    split of the parameters by aspect that does not sum to the difference from the paper network."""

    @property
    def found(self) -> set[str]:
        return self.truth & self.reported

    @property
    def missed(self) -> set[str]:
        return self.truth - self.reported

    @property
    def false(self) -> set[str]:
        return self.reported - self.truth - self.either - self.hard

    @property
    def hard_found(self) -> set[str]:
        return self.hard & self.reported

    @property
    def wrong_refusal(self) -> bool:
        return self.refused == self.unet

    @property
    def refusal_one_line(self) -> bool:
        return bool(self.error) and "\n" not in self.error.strip()


SETTINGS = ("input_size", "in_channels", "num_classes", "output_size")
"""The truth's ``config`` keys that the audit's JSON ``config`` states too."""


def _wrong_settings(truth: dict[str, Any], config: dict[str, Any]) -> list[str]:
    """What the audit's ``config`` states that the truth contradicts (settings, total, the split's sum)."""
    wrong = []
    for key in SETTINGS:
        if key in truth["config"] and key in config:
            expected, stated = truth["config"][key], config[key]
            if isinstance(expected, tuple | list):
                expected, stated = list(expected), list(stated) if isinstance(stated, tuple | list) else stated
            if stated != expected:
                wrong.append(f"{key} {stated} (truth {expected})")
    if config.get("params") is not None and config["params"] != truth["params"]:
        wrong.append(f"params {config['params']:,} (truth {truth['params']:,})")
    shares, paper = config.get("params_by_aspect"), config.get("paper_params")
    stated = config.get("params")
    if shares is not None and paper is not None and stated is not None and sum(shares.values()) != stated - paper:
        wrong.append(f"params_by_aspect sums to {sum(shares.values()):,}, not {stated - paper:,}")
    return wrong


def audit_one(name: str, group: str = "A") -> Result:
    """Audit corpus model ``name`` through the public API and compare it with its truth."""
    from unet_explain.model.audit import audit_model, load_model

    truth = truth_of(name)
    result = Result(
        name=name,
        group=group,
        unet=bool(truth["unet"]),
        truth=set(truth["deviations"]),
        either=set(truth.get("either", {})),
        hard=set(truth.get("hard_to_see", {})),
        params_truth=int(truth["params"]),
    )
    start = time.perf_counter()
    try:
        model = load_model(f"{CORPUS / name}.py:model")
        result.params = int(model.count_params())
        report = audit_model(model)
    except Exception as err:  # any failure is a refusal: a user sees no audit
        result.refused = True
        result.error = f"{type(err).__name__}: {err}"
    else:
        data = report.as_dict()
        result.reported = {d["aspect"] for d in data.get("deviations", [])}
        config = data.get("config", {})
        result.params_by_aspect = dict(config.get("params_by_aspect", {}))
        result.wrong_settings = _wrong_settings(truth, config)
    result.seconds = time.perf_counter() - start
    return result


def _ratio(num: int, den: int) -> str:
    return f"{num}/{den} ({100 * num / den:.0f}%)" if den else "-"


def _keys(keys: set[str]) -> str:
    return ", ".join(sorted(keys)) or "-"


def totals(results: list[Result]) -> dict[str, int]:
    """Sums over ``results``: true, found, false aspects, wrong refusals, hard deviations."""
    unets = [r for r in results if r.unet]
    return {
        "models": len(results),
        "unets": len(unets),
        "true": sum(len(r.truth) for r in unets),
        "found": sum(len(r.found) for r in unets),
        "false": sum(len(r.false) for r in results),
        "models_with_false": sum(1 for r in results if r.false),
        "wrong_refusals": sum(1 for r in results if r.wrong_refusal),
        "hard": sum(len(r.hard) for r in unets),
        "hard_found": sum(len(r.hard_found) for r in unets),
        "models_with_wrong_settings": sum(1 for r in results if r.wrong_settings),
    }


def format_report(results: list[Result]) -> str:
    """The per-model lines and the totals for group A, group B and all."""
    lines = [f"{'model':30} grp unet  recall        refused  false aspects / missed (by aspect key)"]
    for r in results:
        recall = _ratio(len(r.found), len(r.truth)) if r.unet else "(not a U-Net)"
        refused = ("yes" if r.refused else "no") + (" WRONG" if r.wrong_refusal else "")
        lines.append(
            f"{r.name:30} {r.group:3} {'yes' if r.unet else 'no':4}  {recall:13} {refused:8} "
            f"false: {_keys(r.false)}; missed: {_keys(r.missed) if r.unet else '-'}"
            + (f"; either-way keys reported: {_keys(r.either & r.reported)}" if r.either & r.reported else "")
        )
        if r.wrong_settings:
            lines.append(f"{'':36}wrong settings: {'; '.join(r.wrong_settings)}")
        if r.refused:
            lines.append(
                f"{'':36}refusal: {r.error.splitlines()[0][:150] if r.error else ''}"
                + ("" if r.refusal_one_line else " [more than one line]")
                + ("" if r.unet or "u-net" in r.error.lower() else " [does not say why it is not a U-Net]")
            )
    lines.append("")
    for label, subset in (
        ("group A (truth before any audit run)", [r for r in results if r.group == "A"]),
        ("group B (added after)", [r for r in results if r.group == "B"]),
        ("all", results),
    ):
        t = totals(subset)
        if not t["models"]:
            lines.append(f"{label}: no models")
            continue
        lines.append(
            f"{label}: {t['models']} models ({t['unets']} U-Nets); recall {_ratio(t['found'], t['true'])}; "
            f"false aspects {t['false']} (in {t['models_with_false']} models); wrong refusals "
            f"{t['wrong_refusals']}; models with wrong settings {t['models_with_wrong_settings']}; "
            f"hard-to-see deviations found {t['hard_found']}/{t['hard']}"
        )
    return "\n".join(lines) + "\n"


def run_all() -> list[Result]:
    """Audit every corpus model, in group order (A, then B, then any not yet in a group)."""
    group_a, group_b = groups()
    ordered = [(n, "A") for n in group_a] + [(n, "B") for n in group_b]
    ordered += [(n, "?") for n in model_names() if n not in group_a and n not in group_b]
    return [audit_one(name, group) for name, group in ordered]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.audit_corpus", description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    text = format_report(run_all())
    sys.stdout.write(text)
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
