"""The public API is what ``__all__`` says, no more and no less."""

from __future__ import annotations

import unet_explain


def test_all_matches_public_names():
    typing_helpers = {"annotations", "TYPE_CHECKING", "Any"}
    public = {
        name
        for name, value in vars(unet_explain).items()
        if not name.startswith("_") and not getattr(value, "__name__", "").startswith("unet_explain.")
    }
    assert set(unet_explain.__all__) - {"__version__"} == public - typing_helpers
    for name in unet_explain.__all__:
        assert hasattr(unet_explain, name)
