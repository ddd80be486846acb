"""``python -m unet_explain``: the same as the ``unet-explain`` command."""

from unet_explain.cli import run

if __name__ == "__main__":
    run()
