"""One module per command or family of commands; each has ``register(sub)``, which adds its parser(s).

A new command is a new module here with a ``register`` function, listed once in
:data:`unet_explain.cli.parser.COMMAND_MODULES`.
"""
