"""Imported first by the package: when it runs as the command, a Ctrl-C while its modules load is one line.

Only for ``unet-explain`` and ``python -m unet_explain`` (see :func:`unet_explain.interrupts.guard_startup`);
importing the library changes nothing.
"""

from unet_explain.interrupts import guard_startup

guard_startup()
