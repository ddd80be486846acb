"""A 404 page that works wherever the site is served.

A web server shows ``404.html`` for any missing address, at any depth: its
links can be neither absolute (MkDocs writes ``/assets/...`` when no
``site_url`` is set, which breaks as soon as the site lives in a sub-folder)
nor plainly relative (they would resolve against the missing address). So
every link of the page is made relative to a ``<base>`` that a few lines of
script find before the stylesheets load: the deepest folder of the address
that holds this site's ``404.html`` (a same-origin request, nothing else is
fetched); opened as a file, or if no folder answers, the page's own folder.
"""

from __future__ import annotations

import re

FIND_BASE = """<script>
(function () {
  var here = location.pathname.replace(/[^/]*$/, ""), root = here;
  if (location.protocol === "http:" || location.protocol === "https:") {
    var parts = here.split("/").filter(Boolean);
    for (var i = parts.length; i >= 0; i--) {
      var folder = "/" + parts.slice(0, i).join("/") + (i ? "/" : "");
      try {
        var probe = new XMLHttpRequest();
        probe.open("HEAD", folder + "404.html", false);
        probe.send();
        if (probe.status === 200) { root = folder; break; }
      } catch (e) { break; }
    }
  }
  document.write('<base href="' + root.replace(/"/g, "%22") + '">');
})();
</script>"""
"""Finds the site's root folder and writes the ``<base>`` every link of the page resolves against."""

_ROOT_LINK = re.compile(r'\b(href|src)="/(?!/)')
_BASE_CONFIG = re.compile(r'("base":\s*)"/"')
_SEARCH_CONFIG = re.compile(r'("search":\s*)"/(?!/)')


def portable(page: str) -> str:
    """``404.html`` as MkDocs wrote it (root-absolute links) -> links relative to a ``<base>`` found at run time."""
    if FIND_BASE in page:
        return page
    page = _ROOT_LINK.sub(r'\1="', page)
    page = _BASE_CONFIG.sub(r'\1"."', page)  # Material's own base (assets) ...
    page = _SEARCH_CONFIG.sub(r'\1"', page)  # ... and its search worker
    return page.replace("<head>", "<head>\n" + FIND_BASE, 1)
