"""SDC1 solution: PyBDSF source finding, SDC1 catalogue, source classifier and scoring."""

from .catalogue import (
    SizePrior,
    read_sdc1_catalogue,
    sdc1_pa,
    seed_catalogue,
    to_submission,
    write_sdc1_catalogue,
)
from .classify import SourceClassifier, crossmatch, source_features
from .constants import CAT_COLUMNS, TRAIN_AREAS
from .finder import read_bdsf_catalogue, run_pybdsf, sdc1_bdsf_options
from .pipeline import PipelineResult, run_pipeline, run_seed
from .preprocess import preprocess
from .score import Score, score_catalogue

__version__ = "0.1.0"
__all__ = [
    "CAT_COLUMNS",
    "TRAIN_AREAS",
    "PipelineResult",
    "Score",
    "SizePrior",
    "SourceClassifier",
    "crossmatch",
    "preprocess",
    "read_bdsf_catalogue",
    "read_sdc1_catalogue",
    "run_pipeline",
    "run_pybdsf",
    "run_seed",
    "score_catalogue",
    "sdc1_bdsf_options",
    "sdc1_pa",
    "seed_catalogue",
    "source_features",
    "to_submission",
    "write_sdc1_catalogue",
]
