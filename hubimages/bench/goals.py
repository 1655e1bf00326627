"""The goals of `invoke bench`: each measured figure that has one is shown beside it, met or
missed (docs/benchmarks.md). The only place a goal is written."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    limit: float
    unit: str

    def judge(self, value: object) -> str:
        if not isinstance(value, int | float):
            return f"at most {self.limit:g} {self.unit}"
        verdict = "met" if value <= self.limit else "MISSED"
        return f"at most {self.limit:g} {self.unit}: {verdict}"


GOALS = {
    # Raised for workflows: git (nbgitpuller's, and the users' own) and the perl Debian's git
    # depends on (images/base/README.md, "What it costs").
    "base_size_mb": Goal(480, "MB"),
    "sdc1_size_mb": Goal(1600, "MB"),
    "base_start_to_api_s_median": Goal(1.0, "s"),
    "sdc1_start_to_api_s_median": Goal(1.3, "s"),
    "rucio_start_s": Goal(60, "s"),
    "sign_sbom_provenance_all_images_s": Goal(30, "s"),
    "verify_all_images_s": Goal(10, "s"),
    "workflows_added_to_release_s": Goal(180, "s"),
    "catalogue_query_ms_median": Goal(100, "ms"),
    "launch_to_notebook_s": Goal(15, "s"),
}
