"""`invoke bench`: the numbers of the images and the tool (times, sizes, science results)."""

BENCH_NAMESPACE = "hubimages-bench"  # repositories of the benchmark's own registry


def bench_namespace(namespace: str) -> str:
    """Images and services of a benchmark: apart from the checkout's, and from another
    checkout's benchmark on the same engine."""
    return f"{namespace.replace('/', '-')}-bench"


BENCH_LABEL = {"hubimages.bench": "1"}  # on every container a benchmark starts
SERVER_IMAGES = ("base", "sdc1")  # timed and watched idle: the smallest and the largest
