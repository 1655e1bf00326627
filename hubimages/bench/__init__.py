"""`invoke bench`: the numbers of the images and the tool (times, sizes, science results)."""

BENCH_NAMESPACE = "hubimages-bench"  # images, tags and repositories of benchmarks only
BENCH_LABEL = {"hubimages.bench": "1"}  # on every container a benchmark starts
SERVER_IMAGES = ("base", "sdc1")  # timed and watched idle: the smallest and the largest
