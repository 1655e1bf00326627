"""Command line: ``sdc1-pipeline {run,preprocess,find,catalogue,score}``."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .constants import FREQS


def _common(p: argparse.ArgumentParser, truth_required: bool = False) -> None:
    p.add_argument("--freq", type=int, choices=FREQS, default=560, help="band in MHz")
    p.add_argument(
        "--truth",
        type=Path,
        required=truth_required,
        help="SDC1 truth catalogue (training area): trains the size prior and the "
        "classifier, and is used for scoring",
    )
    p.add_argument(
        "--area",
        choices=("train", "all"),
        default="train",
        help="train: crop to / score in the training area; all: whole image, "
        "score outside the training area (default: train)",
    )
    p.add_argument(
        "--mode",
        type=int,
        choices=(0, 1),
        default=0,
        help="scorer cross-match on core (0) or centroid (1) positions",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sdc1-pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("run", help="image -> SDC1 catalogue (+ score with --truth)")
    p.add_argument("--image", type=Path, required=True)
    p.add_argument("--pb", type=Path, help="primary-beam image for flux correction")
    p.add_argument("--out", type=Path, required=True, help="submission catalogue to write")
    p.add_argument("--workdir", type=Path, help="working directory (default: a temporary one)")
    p.add_argument("--seed", action="store_true", help="also run and score the seed solution")
    _common(p)

    p = sub.add_parser("preprocess", help="crop to the training area and divide by the beam")
    p.add_argument("--image", type=Path, required=True)
    p.add_argument("--pb", type=Path)
    p.add_argument("--freq", type=int, choices=FREQS, default=560)
    p.add_argument("--no-crop", action="store_true", help="keep the whole image")
    p.add_argument("--out", type=Path, required=True)

    p = sub.add_parser("find", help="run PyBDSF with the SDC1 settings")
    p.add_argument("--image", type=Path, required=True)
    p.add_argument("--outdir", type=Path, required=True)
    p.add_argument("--formats", nargs="+", choices=("fits", "ascii", "csv"), default=["fits"])

    p = sub.add_parser("catalogue", help="PyBDSF source list -> SDC1 submission")
    p.add_argument("--srl", type=Path, required=True, help="PyBDSF source list (fits/ascii/csv)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", action="store_true", help="seed conversion (fitted sizes, all SFG)")
    _common(p)

    p = sub.add_parser("score", help="score a submission with ska-sdc")
    p.add_argument("--cat", type=Path, required=True)
    _common(p, truth_required=True)
    return parser


def _run(args: argparse.Namespace) -> int:
    from .catalogue import write_sdc1_catalogue
    from .pipeline import run_pipeline, run_seed

    with tempfile.TemporaryDirectory(prefix="sdc1-") as tmp:
        work = args.workdir or Path(tmp)
        res = run_pipeline(
            args.image,
            work,
            pb=args.pb,
            truth=args.truth,
            freq=args.freq,
            area=args.area,
            mode=args.mode,
        )
        write_sdc1_catalogue(res.catalogue, args.out)
        print(f"PyBDSF sources: {len(res.srl)}; catalogue: {len(res.catalogue)} rows -> {args.out}")
        print("timings: " + ", ".join(f"{k}={v:.2f}s" for k, v in res.timings.items()))
        for note in res.notes:
            print(f"note: {note}")
        if res.score is not None:
            print(f"SDC1 score: {res.score.value:.2f}  ({res.score.summary()})")
        if args.seed and args.truth is not None:
            _, seed = run_seed(args.image, work, args.truth, args.freq, args.area, args.mode)
            print(f"seed score: {seed.value:.2f}  ({seed.summary()})")
    return 0


def _catalogue(args: argparse.Namespace) -> int:
    from .catalogue import (
        read_sdc1_catalogue,
        seed_catalogue,
        to_submission,
        write_sdc1_catalogue,
    )
    from .classify import core_fractions
    from .constants import TRAIN_AREAS
    from .finder import read_bdsf_catalogue
    from .pipeline import fit_prior

    srl = read_bdsf_catalogue(args.srl)
    if args.seed:
        cat = seed_catalogue(srl)
    else:
        truth = read_sdc1_catalogue(args.truth) if args.truth else None
        prior = fit_prior(truth, None, []) if truth is not None else None
        cf = core_fractions(truth) if truth is not None else None
        area = TRAIN_AREAS[args.freq] if args.area == "train" else None
        cat = to_submission(srl, core_frac=cf, prior=prior, area=area)
    write_sdc1_catalogue(cat, args.out)
    print(f"{len(cat)} sources -> {args.out}")
    if args.truth is not None:
        return _print_score(cat, args)
    return 0


def _print_score(cat, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from .catalogue import read_sdc1_catalogue
    from .score import score_catalogue

    res = score_catalogue(
        cat, read_sdc1_catalogue(args.truth), args.freq, mode=args.mode, train=args.area == "train"
    )
    print(f"SDC1 score: {res.value:.2f}  ({res.summary()})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.cmd == "run":
        return _run(args)
    if args.cmd == "preprocess":
        from .preprocess import preprocess

        out = preprocess(args.image, args.out, pb=args.pb, freq=None if args.no_crop else args.freq)
        print(f"wrote {out}")
        return 0
    if args.cmd == "find":
        from .finder import run_pybdsf

        res = run_pybdsf(args.image, args.outdir, formats=tuple(args.formats))
        print(f"{len(res.srl)} sources, {len(res.gaul)} Gaussians, rms {res.rms:.3g} Jy/beam")
        for name, path in res.catalogues.items():
            print(f"  {name}: {path}")
        return 0
    if args.cmd == "catalogue":
        return _catalogue(args)
    from .catalogue import read_sdc1_catalogue

    return _print_score(read_sdc1_catalogue(args.cat), args)


if __name__ == "__main__":
    sys.exit(main())
