"""SDC1 facts from the challenge description (Bonaldi et al. 2021, MNRAS 500, 3821)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Columns of an SDC1 submission / truth catalogue, in order.
CAT_COLUMNS: list[str] = [
    "id",
    "ra_core",
    "dec_core",
    "ra_cent",
    "dec_cent",
    "flux",
    "core_frac",
    "b_maj",
    "b_min",
    "pa",
    "size",
    "class",
]

#: Source classes.
SS_AGN, FS_AGN, SFG = 1, 2, 3
CLASS_NAMES: dict[int, str] = {SS_AGN: "SS-AGN", FS_AGN: "FS-AGN", SFG: "SFG"}

#: Size conventions of the ``size`` column: 1 largest angular scale, 2 Gaussian FWHM,
#: 3 exponential scale length. PyBDSF measures Gaussian FWHMs.
SIZE_GAUSSIAN = 2

FREQS: tuple[int, ...] = (560, 1400, 9200)


@dataclass(frozen=True)
class TrainArea:
    """Training-area box in degrees, RA wrapped to -180..180."""

    ra_min: float
    ra_max: float
    dec_min: float
    dec_max: float

    def contains(self, ra: float, dec: float) -> bool:
        ra = wrap_ra(ra)
        return self.ra_min < ra < self.ra_max and self.dec_min < dec < self.dec_max


#: SDC1 training areas per band (MHz), from the challenge description.
TRAIN_AREAS: dict[int, TrainArea] = {
    560: TrainArea(-0.6723, 0.0, -29.9400, -29.4061),
    1400: TrainArea(-0.2688, 0.0, -29.9400, -29.7265),
    9200: TrainArea(-0.04092, 0.0, -29.9400, -29.9074),
}

#: Synthesised beam FWHM (arcsec) of the 560 MHz image; scales as 1/frequency.
BEAM_FWHM_560_ARCSEC = 1.5


def beam_fwhm_arcsec(freq_mhz: float) -> float:
    """Restoring-beam FWHM in arcsec for an SDC1 band."""
    return BEAM_FWHM_560_ARCSEC * 560.0 / float(freq_mhz)


def wrap_ra(ra: Any) -> Any:
    """Wrap RA (deg, scalar or array) to the -180..180 range used by SDC1 catalogues."""
    return ((ra + 180.0) % 360.0) - 180.0


def check_freq(freq: int) -> int:
    if int(freq) not in FREQS:
        raise ValueError(f"freq must be one of {FREQS} MHz, got {freq}")
    return int(freq)
