"""The walkthrough's step lists name the kernels and layers of the site's own network: 3x3x3
convolutions, batch normalisation and 2x2x2 pooling on the 3D U-Net, 3x3 and 2x2 on the 2D paper.
Expanded in-process (the expansion a build runs), without MkDocs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from unet_explain.config import UNetConfig, preset
from unet_explain.docs.placeholders import choose_cases
from unet_explain.docs.site import site_flags
from unet_explain.docs.site_config import Site

ROOT = Path(__file__).resolve().parent.parent
STEPS = {
    "contracting-path": ROOT / "docs" / "walkthrough" / "contracting-path.md",
    "expansive-path": ROOT / "docs" / "walkthrough" / "expansive-path.md",
}


def steps(config: UNetConfig, page: str) -> str:
    """The numbered list of a page, with its conditions chosen for ``config``."""
    text = choose_cases(STEPS[page].read_text(encoding="utf-8"), Site(flags=site_flags(config), root=ROOT))
    return "\n".join(line for line in text.splitlines() if line[:2] in {"1.", "2.", "3.", "4."})


@pytest.mark.parametrize("page", list(STEPS))
def test_the_3d_unet_steps_speak_of_volumes(page):
    text = steps(preset("3d-unet"), page)
    assert "3x3x3" in text and "batch normalisation" in text
    assert not re.search(r"(?<!x)(3x3|2x2)(?!x)", text)
    assert "height and the width" not in text  # the 2D phrase, with no depth


@pytest.mark.parametrize("page", list(STEPS))
def test_the_paper_steps_speak_of_images(page):
    text = steps(UNetConfig(), page)
    assert re.search(r"(?<!x)3x3(?!x)", text) and re.search(r"(?<!x)2x2(?!x)", text)
    assert "3x3x3" not in text and "normalis" not in text and "depth" not in text


def test_a_volume_without_batch_norm_says_none():
    text = steps(preset("3d-unet", norm=None), "contracting-path")
    assert "3x3x3" in text and "2x2x2" in text and "normalis" not in text
