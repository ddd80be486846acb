"""The overlap-tile planner, tiled inference and the tiling picture."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from unet_explain import ConfigError, UNetConfig, build_spec
from unet_explain.cli import main
from unet_explain.core.tiling import plan_tiles
from unet_explain.model.tiled import mirror_pad, predict_tiled


def test_paper_plan_for_2000x1500():
    spec = build_spec(UNetConfig())
    plan = plan_tiles((2000, 1500), spec)
    # By hand: 388-pixel output tiles, ceil(2000/388) = 6 rows, ceil(1500/388) = 4 columns.
    assert plan.grid == (6, 4) and plan.tiles == 24
    assert plan.margin == (92, 92)
    assert plan.pad_before == (92, 92)
    assert plan.pad_after == (92 + 6 * 388 - 2000, 92 + 4 * 388 - 1500) == (420, 144)
    assert plan.padded_size == (2000 + 92 + 420, 1500 + 92 + 144)
    assert math.isclose(plan.useful_fraction, 2000 * 1500 / (6 * 388 * 4 * 388))
    assert plan.total_macs == 24 * spec.totals.macs


def test_input_tiles_cover_the_padded_image_exactly():
    plan = plan_tiles((777, 401), build_spec(UNetConfig()))
    origins = plan.input_origins()
    assert len(origins) == plan.tiles
    last_y, last_x = origins[-1]
    assert (last_y + plan.input_tile[0], last_x + plan.input_tile[1]) == plan.padded_size


def test_mirror_pad_reflects_without_repeating_the_edge():
    plan = plan_tiles((3, 3), build_spec(UNetConfig(input_size=(10, 10), depth=1, padding="same")))
    assert plan.pad_before == (0, 0)
    image = np.arange(1, 4, dtype=float)[None, :, None].repeat(3, 0)
    padded = mirror_pad(image, plan)
    assert padded[0, :, 0].tolist()[:5] == [1, 2, 3, 2, 1]  # 3 is not repeated


class CentreOfTile:
    """A stand-in network that outputs the centre of its input tile: stitching must rebuild the image."""

    def __init__(self, spec):
        self.n, self.m = spec.config.input_size, spec.totals.output_size

    def __call__(self, batch):
        dy, dx = (self.n[0] - self.m[0]) // 2, (self.n[1] - self.m[1]) // 2
        centre = batch[:, dy : dy + self.m[0], dx : dx + self.m[1], :1]
        return np.concatenate([centre, -centre], axis=-1)


@pytest.mark.parametrize("image_size", [(50, 70), (5, 3), (388, 388), (389, 1000)])
def test_stitched_centres_rebuild_the_image(image_size):
    config = UNetConfig()
    image = np.random.default_rng(1).random(image_size).astype(np.float32)
    out = predict_tiled(CentreOfTile(build_spec(config)), image, config, batch_size=3)
    assert out.shape == (*image_size, 2)
    np.testing.assert_array_equal(out[..., 0], image)


def test_predict_tiled_rejects_wrong_channels():
    with pytest.raises(ConfigError, match=r"image must be \(H, W\) or \(H, W, 3\)"):
        predict_tiled(lambda b: b, np.zeros((10, 10, 1)), UNetConfig(in_channels=3))


@pytest.mark.keras
def test_predict_tiled_with_the_keras_model():
    from unet_explain import build_model

    config = UNetConfig(input_size=60, depth=2, base_filters=2, num_classes=3)
    spec = build_spec(config)
    model = build_model(config, seed=3)
    image = np.random.default_rng(2).random((45, 33)).astype(np.float32)
    out = predict_tiled(model, image, config, batch_size=2)
    assert out.shape == (45, 33, 3)
    # By hand: a 60-pixel tile of depth 2 loses 2 * 2 * (3 * 4 - 2) = 40, so 20-pixel output tiles and a
    # 20-pixel margin; 45 rows need 3 tiles (60 computed), 33 columns 2 tiles (40 computed). The image is
    # mirrored (edge not repeated) by the margin before and by the margin plus the surplus after.
    assert spec.totals.output_size == (20, 20)
    padded = np.pad(image, ((20, 20 + 60 - 45), (20, 20 + 40 - 33)), mode="reflect")[..., None]
    for y, x in [(r * 20, c * 20) for r in range(3) for c in range(2)]:
        tile = model.predict(padded[None, y : y + 60, x : x + 60], verbose=0)[0]
        expected = tile[: min(20, 45 - y), : min(20, 33 - x)]
        np.testing.assert_allclose(out[y : y + expected.shape[0], x : x + expected.shape[1]], expected, rtol=1e-5)


def test_cli_tile_prints_and_draws(tmp_path, capsys):
    target = tmp_path / "tiling.png"
    assert main(["tile", "--image", "2000x1500", "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert "6 rows x 4 columns = 24 tiles" in out and "top 92, bottom 420, left 92, right 144" in out
    image = Image.open(io.BytesIO(target.read_bytes())).convert("RGB")
    assert image.size[0] > 400 and len(image.getcolors(1 << 20)) > 20


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--image", "0x5"], "--image sides must be between 2"),
        (["--image", "1x1"], "mirroring needs two pixels"),
        (["--image", "-3x5"], "argument --image"),
        (["--image", "2000x1500", "--tile", "570"], "--tile 570 is not valid"),
        (["--image", "2000x1500", "--tile", "570"], "nearest valid sizes: 556, 572"),
        (["--image", "2000x1500", "--tile", "556", "--input-size", "572"], "give one of them"),
    ],
)
def test_cli_tile_bad_input(capsys, argv, fragment):
    try:
        code = main(["tile", *argv])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert fragment in err and err.count("\n") == 1
