"""What ``--unsafe`` allows, in words: kept apart from the audit so the CLI's parser can show it cheaply.

Importing :mod:`unet_explain.model.audit` loads the whole audit (its wording tables
and comparison code); the parser, built for every command, needs only this line.
"""

from __future__ import annotations

UNSAFE_HELP = (
    "load a saved model with Keras's safe mode off: a Lambda layer in the file then runs the Python code "
    "stored in it (only for files you trust)"
)
