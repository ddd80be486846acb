"""Maths on the site as MathML, made while the site builds: no script, no font, no request to another host.

A Python-Markdown extension (``unet_explain.docs.mathml`` in ``mkdocs.yml``'s
``markdown_extensions``). A display formula is a block of its own between two
lines holding only ``$$``; an inline formula is written ``\\(...\\)``. The LaTeX
is turned into MathML by ``latex2mathml``, which browsers render natively
(Chromium since 109, Firefox and Safari for long); the LaTeX source stays in
the page as the formula's annotation, for screen readers and for copying.
"""

from __future__ import annotations

import html
import re
from typing import Any

from markdown import Extension, Markdown
from markdown.inlinepatterns import InlineProcessor
from markdown.preprocessors import Preprocessor

_DISPLAY = re.compile(r"^(?P<indent>[ \t]*)\$\$[ \t]*\n(?P<tex>.*?)\n[ \t]*\$\$[ \t]*$", re.M | re.S)
_INLINE = r"\\\((?P<tex>.+?)\\\)"


def to_mathml(tex: str, display: bool) -> str:
    """The MathML of one formula, its LaTeX kept as an annotation."""
    from latex2mathml.converter import convert

    mathml = convert(tex.strip(), display="block" if display else "inline")
    source = f'<annotation encoding="application/x-tex">{html.escape(tex.strip())}</annotation>'
    # <semantics> holds the rendered formula first, then its source.
    head, _, rest = mathml.partition(">")
    body = rest.rsplit("</math>", 1)[0]
    return f"{head}><semantics>{body}{source}</semantics></math>"


class _DisplayMath(Preprocessor):  # type: ignore[misc]  # Markdown has no type hints
    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)

        def block(match: re.Match[str]) -> str:
            placeholder = self.md.htmlStash.store(
                f'<div class="unet-math">{to_mathml(match.group("tex"), display=True)}</div>'
            )
            return f"{match.group('indent')}{placeholder}"

        return _DISPLAY.sub(block, text).split("\n")


class _InlineMath(InlineProcessor):  # type: ignore[misc]
    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Any, int, int]:
        return self.md.htmlStash.store(to_mathml(m.group("tex"), display=False)), m.start(0), m.end(0)


class MathMLExtension(Extension):  # type: ignore[misc]
    """``$$`` blocks and ``\\(...\\)`` as MathML."""

    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(_DisplayMath(md), "unet_mathml_block", 27)  # before fenced code (25) and html
        md.inlinePatterns.register(_InlineMath(_INLINE, md), "unet_mathml_inline", 185)  # before escapes (180)


def makeExtension(**kwargs: Any) -> MathMLExtension:
    """The entry point Python-Markdown calls for ``unet_explain.docs.mathml``."""
    return MathMLExtension(**kwargs)
