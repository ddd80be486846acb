"""Memory of a training step and of inference, against figures derived by hand from the paper's sizes.

The expected values below are written out from the sizes of the paper's
Figure 1 (``../shared/reference/unet-facts.md``), tensor by tensor, not from
the spec or the module under test.
"""

from __future__ import annotations

import pytest

from unet_explain.config import UNetConfig
from unet_explain.core import memory as mm
from unet_explain.core.spec import build_spec
from unet_explain.errors import ConfigError

F32 = 4
PAPER_PARAMS = 31_030_658  # the paper's network, 1 input channel, 2 classes (unet-facts.md)

# (side, channels) of every tensor a training step keeps, read off Figure 1.
CONVS = [
    (570, 64), (568, 64), (282, 128), (280, 128), (138, 256), (136, 256), (66, 512), (64, 512),  # contracting
    (30, 1024), (28, 1024),  # bottleneck
    (54, 512), (52, 512), (102, 256), (100, 256), (198, 128), (196, 128), (390, 64), (388, 64),  # expansive
]  # fmt: skip
POOLS = [(284, 64), (140, 128), (68, 256), (32, 512)]
CONCATS = [(56, 1024), (104, 512), (200, 256), (392, 128)]
UPCONVS = [(56, 512), (104, 256), (200, 128), (392, 64)]  # each also the size of its cropped copy
IMAGES = 572 * 572 * 1 * F32
LABELS = 388 * 388 * 4  # int32 class indices
LOSS_GRAD = 388 * 388 * 2 * F32  # the loss's gradient w.r.t. the two-class logits


def nbytes(tensors: list[tuple[int, int]], per: int = F32) -> int:
    return sum(side * side * channels * per for side, channels in tensors)


KEPT = nbytes(CONVS) + nbytes(POOLS) + nbytes(CONCATS) + IMAGES + LABELS + LOSS_GRAD


@pytest.fixture(scope="module")
def paper():
    return build_spec(UNetConfig())


def test_weights_gradients_and_momentum_of_the_paper_step(paper):
    use = mm.memory_use(paper)
    assert use.weights == PAPER_PARAMS * 4
    assert use.gradients == PAPER_PARAMS * 4
    assert use.optimizer_state == PAPER_PARAMS * 4 + 8 + 4  # one velocity per weight, step counter, learning rate


def test_adam_keeps_two_slots_and_mixed_keeps_float16_copies(paper):
    adam = mm.memory_use(paper, optimizer="adam")
    assert adam.optimizer_state == 2 * PAPER_PARAMS * 4 + 12
    mixed = mm.memory_use(paper, dtype="mixed")
    assert mixed.weights == PAPER_PARAMS * (4 + 2)
    assert mixed.gradients == PAPER_PARAMS * 4
    assert mixed.optimizer_state == PAPER_PARAMS * 4 + 12 + 12  # plus the loss scale and its counter


def test_kept_activations_of_the_paper_tile(paper):
    """Conv outputs, poolings, concatenations, the batch, the labels, the loss gradient; not the up-convs or crops."""
    assert mm.memory_use(paper).activations == KEPT
    assert KEPT == 654_156_032  # about 654 MB, against the 575 MB of the view convention


def test_transient_of_the_paper_tile(paper):
    """The peak comes in dec1_conv1's backward step.

    By then the loss gradient and dec1_conv2's output are freed; alive on top of
    what is kept are the gradient of dec1_conv1's output and the gradient of the
    concatenation it reads.
    """
    at_peak = -LOSS_GRAD - 388 * 388 * 64 * F32 + 390 * 390 * 64 * F32 + 392 * 392 * 128 * F32
    assert mm.memory_use(paper).transient == at_peak


def test_inference_peak_of_the_paper_tile(paper):
    """The forward pass peaks at dec4's concatenation: three skip maps wait while the bottom is joined."""
    skips = nbytes([(568, 64), (280, 128), (136, 256)])
    at_dec4 = IMAGES + skips + 2 * 56 * 56 * 512 * F32 + 56 * 56 * 1024 * F32
    use = mm.memory_use(paper, mode="infer")
    assert use.activations == at_dec4 == 168_671_296
    assert use.total == PAPER_PARAMS * 4 + at_dec4
    assert use.gradients == use.optimizer_state == use.transient == 0


def test_the_view_convention_is_the_spec_figure_and_a_lower_bound(paper):
    """575 MB counts conv, pool and up-conv outputs and the scores; Keras also allocates crops and concatenations."""
    views = nbytes(CONVS) + nbytes(POOLS) + nbytes(UPCONVS) + 388 * 388 * 2 * F32
    assert paper.totals.activation_bytes == views
    assert round(views / 1e6) == 575
    use = mm.memory_use(paper)
    assert use.views_lower_bound == views < use.activations
    crops_and_concats = nbytes(UPCONVS) + nbytes(CONCATS)
    allocated = sum(n.allocated for n in mm.graph(paper) if n.kind in ("crop", "concat"))
    assert allocated == crops_and_concats
    assert round(crops_and_concats / 1e6) == 232


def test_batch_multiplies_activations_not_weights(paper):
    one, four = mm.memory_use(paper), mm.memory_use(paper, batch=4)
    assert four.activations == 4 * one.activations
    assert four.transient == 4 * one.transient
    assert four.weights == one.weights and four.optimizer_state == one.optimizer_state


def test_mixed_halves_the_layer_outputs_only(paper):
    """float16 layer outputs, plus a float16 copy of the images; images, labels and loss gradient stay 4 bytes."""
    layers = nbytes(CONVS, 2) + nbytes(POOLS, 2) + nbytes(CONCATS, 2)
    expected = IMAGES + 572 * 572 * 2 + layers + LABELS + LOSS_GRAD
    assert mm.memory_use(paper, dtype="mixed").activations == expected


def test_a_crop_of_nothing_allocates_nothing():
    same = build_spec(UNetConfig(input_size=512, padding="same"))
    crops = [n for n in mm.graph(same) if n.kind == "crop"]
    assert len(crops) == 4 and all(n.view and n.allocated == 0 and n.nbytes > 0 for n in crops)
    valid = [n for n in mm.graph(build_spec(UNetConfig())) if n.kind == "crop"]
    assert not any(n.view for n in valid)


@pytest.mark.parametrize(
    "config",
    [UNetConfig(), UNetConfig(input_size=(188, 252), depth=2, base_filters=8, in_channels=3, num_classes=4),
     UNetConfig(input_size=256, padding="same", depth=3)],
)  # fmt: skip
def test_another_tile_counts_like_a_spec_built_for_it(config):
    """The shortcut through the per-axis trace gives what a spec built for that tile gives."""
    spec = build_spec(config)
    other = tuple(side + 2 ** (config.depth + 1) for side in config.input_size)
    direct = build_spec(UNetConfig(**(config.as_dict() | {"input_size": other})))
    for mode in mm.MODES:
        assert mm.memory_use(spec, tile=other, mode=mode) == mm.memory_use(direct, mode=mode)


def test_bigger_tiles_need_more(paper):
    small, big = (mm.memory_use(paper, tile=(s, s)).total for s in (556, 588))
    assert small < mm.memory_use(paper).total < big


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [("batch", {"batch": 0}), ("optimizer", {"optimizer": "rmsprop"}), ("dtype", {"dtype": "bfloat16"}),
     ("mode", {"mode": "eval"})],
)  # fmt: skip
def test_bad_options_name_the_argument(paper, field, kwargs):
    with pytest.raises(ConfigError) as err:
        mm.memory_use(paper, **kwargs)
    assert err.value.argument == field


def test_nnunet_counts_conv_upconv_and_head_outputs(paper):
    """nnU-Net's estimate: output values of every conv, transposed conv and head, batch 1 (unet-facts.md)."""
    from unet_explain.core.nnunet import bytes_per_value, nnunet_estimate

    values = (nbytes(CONVS) + nbytes(UPCONVS)) // F32 + 388 * 388 * 2
    estimate = nnunet_estimate(paper, batch=2)
    assert estimate.values == values
    # 85,000,000 values at batch 12 stand for 8 GB (read as GiB): about 8.4 bytes per value.
    assert bytes_per_value(2) == pytest.approx(8 * 2**30 / 1.02e9)
    assert estimate.implied_bytes == pytest.approx(2 * values * 8 * 2**30 / 1.02e9, abs=1)


def test_kept_bytes_by_stage_add_up_to_the_kept_activations(paper):
    by_stage = mm.kept_by_stage(paper)
    assert sum(by_stage.values()) == KEPT
    # dec1 keeps its concatenation and its two conv outputs, read off Figure 1.
    assert by_stage["dec1"] == nbytes([(392, 128), (390, 64), (388, 64)])
    assert by_stage["enc1"] == IMAGES + nbytes([(570, 64), (568, 64), (284, 64)])
    assert by_stage["output"] == LABELS + LOSS_GRAD


@pytest.mark.parametrize(
    "config",
    [UNetConfig(input_size=(188, 252), depth=2, base_filters=8, in_channels=3, num_classes=4),
     UNetConfig(input_size=256, padding="same", depth=3),
     UNetConfig(input_size=(132, 132, 116), depth=3, base_filters=32, in_channels=3, num_classes=3)],
)  # fmt: skip
def test_the_view_convention_equals_the_tables_memory_for_2d_and_3d(config):
    """The lower bound ``fit`` reports is the figure the table shows, for a plane and a volume alike."""
    spec = build_spec(config)
    use = mm.memory_use(spec)
    assert use.views_lower_bound == spec.totals.activation_bytes < use.activations
    assert len(use.tile) == len(config.input_size)


def test_a_volume_counts_voxels():
    """A 3D tile's tensors hold side**3 voxels: the images of a 132x132x116x3 tile are 132*132*116*3 floats."""
    spec = build_spec(UNetConfig(input_size=(132, 132, 116), depth=3, base_filters=32, in_channels=3, num_classes=3))
    images = next(n for n in mm.graph(spec) if n.name == mm.DATA)
    assert images.nbytes == 132 * 132 * 116 * 3 * F32
    # The 3D U-Net paper's output tile is 44x44x28 (unet-facts.md): the labels hold one int32 per output voxel.
    labels = next(n for n in mm.graph(spec) if n.name == mm.LABELS)
    assert labels.nbytes == 44 * 44 * 28 * 4
