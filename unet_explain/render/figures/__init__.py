"""Every matplotlib figure of the package: one module per figure, one theme, one registry.

- :mod:`.theme`: the colours, the rc and the writer every figure shares;
- :mod:`.registry`: the walkthrough's teaching figures by name (``unet-explain figure NAME``);
- :mod:`.drawing`: what the teaching figures draw with;
- one module per teaching figure (:mod:`.conv3x3`, :mod:`.pooling`, ...), plus
  :mod:`.tiling` (an overlap-tile plan, ``unet-explain tile -o``) and
  :mod:`.weight_map` (the loss's weight map, ``unet-explain weight-map -o``).

Importing this package imports no matplotlib: each figure imports it when it draws.
"""
