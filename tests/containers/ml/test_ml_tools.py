"""The ml stack's numba tools doing real work as jovyan, offline: datashader aggregates a
million points, UMAP embeds a feature table; one numba and one llvmlite, llvmlite stripped.
"""

from __future__ import annotations

import textwrap

from tests.containers.ml.test_ml_stack import run_python

# 10^6 points from three clusters onto a 600 x 600 grid; the counts must be numpy's 2-D
# histogram exactly (bin edges are exact binary fractions), then shaded to a PNG.
DATASHADER = r"""
import json, os, tempfile, time
import numpy as np
import pandas as pd
import datashader as ds
import datashader.transfer_functions as tf

rng = np.random.default_rng(0)
n = 1_000_000
# Three clusters of "sources" in a 2-D feature space.
centres = np.array([[-2.0, 0.0], [1.5, 1.0], [0.5, -2.0]])
which = rng.integers(0, 3, n)
xy = centres[which] + rng.normal(0, 0.5, (n, 2))
frame = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
# Bins well inside float precision: edges at exact multiples of 1/50 over [-6, 6).
width, lo, hi = 600, -6.0, 6.0
canvas = ds.Canvas(plot_width=width, plot_height=width, x_range=(lo, hi), y_range=(lo, hi))
t0 = time.perf_counter()
agg = canvas.points(frame, "x", "y", agg=ds.count())
seconds = time.perf_counter() - t0
inside = (frame.x >= lo) & (frame.x < hi) & (frame.y >= lo) & (frame.y < hi)
hist, _, _ = np.histogram2d(frame.y[inside], frame.x[inside], bins=width,
                            range=[[lo, hi], [lo, hi]])
counts = agg.values
image = tf.shade(agg, how="eq_hist")
png = os.path.join(tempfile.mkdtemp(), "points.png")
image.to_pil().save(png)
rgba = np.asarray(image.to_pil())
print(json.dumps({
    "points": n, "inside": int(inside.sum()), "aggregated": int(counts.sum()),
    "shape": list(counts.shape), "differs_from_histogram": int(np.abs(counts - hist).sum()),
    "nonempty_pixels": int((counts > 0).sum()), "painted": int((rgba[..., 3] > 0).sum()),
    "png_bytes": os.path.getsize(png), "seconds": seconds}))
"""

# sklearn's bundled digits (1797 samples x 64 features, 10 classes) embedded in 2-D; a k-NN
# classifier on the embedding tells whether the classes stay apart. The first `import umap`
# compiles pynndescent with numba (12-40 s on 2 cores; cached in ~/.cache/numba after).
UMAP = r"""
import json, time, warnings
warnings.simplefilter("ignore")
t0 = time.perf_counter()
import umap
imported = time.perf_counter() - t0
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

x, y = load_digits(return_X_y=True)  # 1797 x 64 features, 10 classes
t0 = time.perf_counter()
embedding = umap.UMAP(n_components=2, random_state=42).fit_transform(x)
fitted = time.perf_counter() - t0
knn = KNeighborsClassifier(n_neighbors=5)
print(json.dumps({
    "shape": list(embedding.shape),
    "embedded_accuracy": float(cross_val_score(knn, embedding, y, cv=5).mean()),
    "import_s": imported, "fit_s": fitted}))
"""


def test_datashader_aggregates_a_million_points(containers) -> None:
    out = run_python(containers, DATASHADER, timeout=300, network_mode="none")
    assert out["points"] == out["inside"] == out["aggregated"] == 1_000_000
    assert out["shape"] == [600, 600]
    assert out["differs_from_histogram"] == 0, out
    assert out["painted"] == out["nonempty_pixels"] > 10_000, out
    assert out["png_bytes"] > 10_000


def test_umap_embeds_a_feature_table(containers) -> None:
    out = run_python(containers, UMAP, timeout=600, network_mode="none")
    assert out["shape"] == [1797, 2]
    assert out["embedded_accuracy"] > 0.9, out  # measured 0.977


def test_one_numba_one_llvmlite_and_llvmlite_stripped(containers) -> None:
    out = run_python(
        containers,
        textwrap.dedent(
            """
            import json, os
            from importlib.metadata import distributions, files
            names = [d.metadata["Name"].lower() for d in distributions()]
            record = next(f for f in files("llvmlite") if f.name == "libllvmlite.so")
            print(json.dumps({"numba": names.count("numba"), "llvmlite": names.count("llvmlite"),
                              "shipped": record.size,
                              "installed": os.path.getsize(record.locate())}))
            """
        ),
        network_mode="none",
    )
    assert (out["numba"], out["llvmlite"]) == (1, 1), out
    assert out["installed"] < out["shipped"] - 10 * 10**6, out  # 179 -> 160 MB measured
