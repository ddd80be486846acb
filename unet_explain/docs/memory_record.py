"""The recorded run of benchmarks/memory_fit.py (its --record writes it; do not edit)."""

from __future__ import annotations

from typing import Any

DEVICE = "CPU"

RECORD: list[dict[str, Any]] = [
    {
        "config": {
            "depth": 2,
            "base_filters": 16,
            "in_channels": 1,
            "num_classes": 2
        },
        "tile": 188,
        "predicted_step": 20706824,
        "measured_step": 19132416,
        "predicted_infer": 6056000,
        "measured_infer": 5652480
    },
    {
        "config": {
            "depth": 2,
            "base_filters": 16,
            "in_channels": 1,
            "num_classes": 2
        },
        "tile": 316,
        "predicted_step": 65091080,
        "measured_step": 60669952,
        "predicted_infer": 20469824,
        "measured_infer": 19820544
    },
    {
        "config": {
            "depth": 2,
            "base_filters": 16,
            "in_channels": 1,
            "num_classes": 2
        },
        "tile": 444,
        "predicted_step": 134641160,
        "measured_step": 127524864,
        "predicted_infer": 43403328,
        "measured_infer": 44068864
    },
    {
        "config": {
            "depth": 2,
            "base_filters": 16,
            "in_channels": 1,
            "num_classes": 2
        },
        "tile": 572,
        "predicted_step": 229357064,
        "measured_step": 217034752,
        "predicted_infer": 74856512,
        "measured_infer": 75976704
    },
    {
        "config": {
            "depth": 2,
            "base_filters": 16,
            "in_channels": 1,
            "num_classes": 2
        },
        "tile": 700,
        "predicted_step": 349238792,
        "measured_step": 330403840,
        "predicted_infer": 114829376,
        "measured_infer": 116523008
    },
    {
        "config": {
            "depth": 3,
            "base_filters": 16,
            "in_channels": 3,
            "num_classes": 4
        },
        "tile": 188,
        "predicted_step": 17429648,
        "measured_step": 16408576,
        "predicted_infer": 4805056,
        "measured_infer": 4161536
    },
    {
        "config": {
            "depth": 3,
            "base_filters": 16,
            "in_channels": 3,
            "num_classes": 4
        },
        "tile": 316,
        "predicted_step": 60085392,
        "measured_step": 56553472,
        "predicted_infer": 14977216,
        "measured_infer": 13705216
    },
    {
        "config": {
            "depth": 3,
            "base_filters": 16,
            "in_channels": 3,
            "num_classes": 4
        },
        "tile": 444,
        "predicted_step": 130921616,
        "measured_step": 127488000,
        "predicted_infer": 35543232,
        "measured_infer": 37777408
    },
    {
        "config": {
            "depth": 3,
            "base_filters": 16,
            "in_channels": 3,
            "num_classes": 4
        },
        "tile": 572,
        "predicted_step": 229938320,
        "measured_step": 225050624,
        "predicted_infer": 64891072,
        "measured_infer": 68681728
    },
    {
        "config": {
            "depth": 3,
            "base_filters": 16,
            "in_channels": 3,
            "num_classes": 4
        },
        "tile": 700,
        "predicted_step": 357135504,
        "measured_step": 349048832,
        "predicted_infer": 103020736,
        "measured_infer": 108765184
    }
]
