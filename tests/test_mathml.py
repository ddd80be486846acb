"""Maths as MathML made at build time (unet_explain.docs.mathml): no script, nothing fetched."""

from __future__ import annotations

import pytest

markdown = pytest.importorskip("markdown")


def render(text: str) -> str:
    extensions = ["unet_explain.docs.mathml", "admonition", "pymdownx.details"]
    return str(markdown.Markdown(extensions=extensions).convert(text))


def test_display_and_inline_formulas_become_mathml_with_their_source():
    html = render("The softmax \\( p_k = e^{a_k} \\) per pixel.\n\n$$\nE = \\sum_x w(x)\n$$\n")
    assert html.count("<math ") == 2
    assert 'display="block"' in html and 'display="inline"' in html
    assert "<msub><mi>p</mi><mi>k</mi></msub>" in html
    assert '<annotation encoding="application/x-tex">E = \\sum_x w(x)</annotation>' in html
    assert "$$" not in html and "\\(" not in html


def test_a_formula_inside_a_folded_answer_stays_inside_it():
    html = render('??? success "Answer"\n\n    $$\n    i_1 = 16\\,b + 60\n    $$\n')
    details = html[html.index("<details") : html.index("</details>")]
    assert "<math " in details and "<mn>60</mn>" in details


def test_no_script_and_no_other_host():
    html = render("$$\n\\frac{a}{b}\n$$\n")
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/1998/Math/MathML", "")
    assert "https://" not in html
