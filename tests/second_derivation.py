"""A second derivation of the network's figures, for tests: written from the paper, not from unet_explain.

Nothing here imports the package. Tests compare the spec (and the messages
built from it) with these numbers, so a test never checks a figure against
the code path that produced it.
"""

from __future__ import annotations


def sides(n: int, depth: int, padding: str) -> list[int] | None:
    """Side after every 3x3 convolution along one axis, down and up the U; ``None`` if ``n`` breaks a rule.

    The rules of section 2: an unpadded 3x3 convolution needs 3 pixels and loses 2; every 2x2
    pooling needs an even size; the output must keep at least one pixel.
    """
    loss = 2 if padding == "valid" else 0
    after: list[int] = []

    def two_convs(x: int) -> int | None:
        for _ in range(2):
            if padding == "valid" and x < 3:
                return None
            x -= loss
            after.append(x)
        return x

    x: int | None = n
    for _ in range(depth):
        x = two_convs(x)
        if x is None or x % 2:
            return None
        x //= 2
    x = two_convs(x)
    for _ in range(depth):
        if x is None:
            return None
        x = two_convs(2 * x)
    return after if x is not None and x >= 1 else None


def is_valid(n: int, depth: int, padding: str) -> bool:
    return n >= 1 and sides(n, depth, padding) is not None


def filters(base: int, depth: int) -> list[int]:
    """Filters per level, 1 .. depth + 1 (the bottleneck last): doubling at every level down."""
    return [base * 2**level for level in range(depth + 1)]


def params(in_channels: int, num_classes: int, depth: int, base: int) -> int:
    """Weights plus biases: 3x3 convs, 2x2 up-convs, the 1x1 head."""
    f = filters(base, depth)
    total, c = 0, in_channels
    for level in range(depth + 1):  # the contracting path and the bottleneck
        total += 9 * c * f[level] + f[level] + 9 * f[level] * f[level] + f[level]
        c = f[level]
    for level in range(depth - 1, -1, -1):  # the expansive path
        total += 4 * c * f[level] + f[level]  # up-convolution, halving the channels
        total += 9 * 2 * f[level] * f[level] + f[level] + 9 * f[level] * f[level] + f[level]
        c = f[level]
    return total + c * num_classes + num_classes


def macs(size: tuple[int, int], in_channels: int, num_classes: int, depth: int, base: int, padding: str) -> int:
    """Multiply-accumulates: a 3x3 conv costs 9 C_in C_out per output pixel, an up-conv C_in C_out."""
    rows, cols = sides(size[0], depth, padding), sides(size[1], depth, padding)
    assert rows is not None and cols is not None
    f = filters(base, depth)
    pixels = [h * w for h, w in zip(rows, cols, strict=True)]  # after each 3x3 conv, in order
    total, c, k = 0, in_channels, 0
    for level in range(depth + 1):
        total += pixels[k] * 9 * c * f[level] + pixels[k + 1] * 9 * f[level] * f[level]
        c, k = f[level], k + 2
    for level in range(depth - 1, -1, -1):
        up = (rows[k - 1] * 2) * (cols[k - 1] * 2)
        total += up * c * f[level]
        total += pixels[k] * 9 * 2 * f[level] * f[level] + pixels[k + 1] * 9 * f[level] * f[level]
        c, k = f[level], k + 2
    return total + pixels[-1] * c * num_classes


def nearest_valid(n: int, depth: int, padding: str, limit: int) -> list[int]:
    """The valid sides nearest to ``n`` below and above (within 1 .. ``limit``), by walking outwards."""
    below = next((m for m in range(n - 1, 0, -1) if is_valid(m, depth, padding)), None)
    above = next((m for m in range(n + 1, limit + 1) if is_valid(m, depth, padding)), None)
    return [m for m in (below, above) if m is not None]
