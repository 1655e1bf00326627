"""The ml stack: scikit-learn, pandas, joblib, JAX/optax/equinox on the CPU, and thread pools sized
to the container's CPU limit by before-notebook.d/10-cpu-threads.sh.

Every check runs a short Python program through the image's entrypoint (start.sh, so the hooks
run), in a container removed afterwards.
"""

import json
import textwrap

import pytest

HOOK = "/usr/local/bin/before-notebook.d/10-cpu-threads.sh"
THREAD_VARS = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "PJRT_NPROC"]


def run_python(containers, code: str, timeout: float = 180, **kwargs) -> dict:
    """Run `code` in a fresh container; its last stdout line is JSON, returned parsed."""
    result = containers.run(["python", "-c", textwrap.dedent(code)], timeout=timeout, **kwargs)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_random_forest_trains_saves_and_loads(containers):
    out = run_python(
        containers,
        """
        import json
        import joblib
        import numpy as np
        import pandas as pd
        from sklearn.datasets import make_classification
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.model_selection import train_test_split

        x, y = make_classification(n_samples=600, n_features=8, n_informative=5, random_state=0)
        frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(8)])
        x_train, x_test, y_train, y_test = train_test_split(frame, y, random_state=0)
        model = RandomForestClassifier(n_estimators=40, random_state=0, n_jobs=-1)
        model.fit(x_train, y_train)
        predicted = model.predict(x_test)
        joblib.dump(model, "/tmp/forest.joblib")
        loaded = joblib.load("/tmp/forest.joblib")
        print(json.dumps({
            "accuracy": float((predicted == y_test).mean()),
            "identical": bool(np.array_equal(loaded.predict(x_test), predicted)),
        }))
        """,
    )
    assert out["identical"]
    assert out["accuracy"] > 0.8


def test_small_neural_network_loss_falls_on_cpu(containers):
    out = run_python(
        containers,
        """
        import json
        import equinox as eqx
        import jax
        import jax.numpy as jnp
        import optax

        kx, kn, km = jax.random.split(jax.random.PRNGKey(0), 3)
        x = jax.random.uniform(kx, (256, 1), minval=-2.0, maxval=2.0)
        y = jnp.sin(2.0 * x) + 0.05 * jax.random.normal(kn, x.shape)
        model = eqx.nn.MLP(1, 1, width_size=32, depth=2, key=km)
        optimiser = optax.adam(1e-2)
        state = optimiser.init(eqx.filter(model, eqx.is_array))

        def loss_fn(model):
            return jnp.mean((jax.vmap(model)(x) - y) ** 2)

        @eqx.filter_jit
        def step(model, state):
            loss, grads = eqx.filter_value_and_grad(loss_fn)(model)
            updates, state = optimiser.update(grads, state, model)
            return eqx.apply_updates(model, updates), state, loss

        losses = []
        for _ in range(150):
            model, state, loss = step(model, state)
            losses.append(float(loss))
        print(json.dumps({"platforms": sorted({d.platform for d in jax.devices()}),
                          "first": losses[0], "last": losses[-1]}))
        """,
    )
    assert out["platforms"] == ["cpu"]
    assert out["last"] < 0.5 * out["first"], out


def test_matplotlib_renders_headless(containers):
    out = run_python(
        containers,
        """
        import json, os
        import matplotlib
        import matplotlib.pyplot as plt
        plt.plot([0, 1, 2], [0, 1, 4])
        plt.savefig("/tmp/plot.png")
        print(json.dumps({"backend": matplotlib.get_backend(),
                          "size": os.path.getsize("/tmp/plot.png")}))
        """,
    )
    assert out["backend"].lower() == "agg"
    assert out["size"] > 1000


THREADS = """
    import json, os
    import numpy, scipy.linalg, sklearn.ensemble  # load OpenBLAS and OpenMP
    from threadpoolctl import threadpool_info
    print(json.dumps({
        "env": {k: os.environ.get(k) for k in THREAD_VARS + ["XLA_FLAGS"]},
        "cpus": len(os.sched_getaffinity(0)),
        "pools": [(p["internal_api"], p["num_threads"]) for p in threadpool_info()],
    }))
""".replace("THREAD_VARS", repr(THREAD_VARS))


@pytest.mark.parametrize(("cpus", "expected"), [(2, 2), (1.5, 2), (1, 1)])
def test_thread_pools_follow_the_cpu_limit(containers, cpus, expected):
    out = run_python(containers, THREADS, nano_cpus=int(cpus * 1e9))
    assert {k: out["env"][k] for k in THREAD_VARS} == dict.fromkeys(THREAD_VARS, str(expected))
    apis = {api for api, _ in out["pools"]}
    assert {"openblas", "openmp"} <= apis, out["pools"]
    assert all(threads <= expected for _, threads in out["pools"]), out["pools"]
    assert (out["env"]["XLA_FLAGS"] is not None) == (expected == 1)


def test_thread_pools_left_alone_without_limit(containers):
    out = run_python(containers, THREADS)
    assert all(value is None for value in out["env"].values()), out["env"]
    blas = [threads for api, threads in out["pools"] if api == "openblas"]
    assert blas == [out["cpus"]] * len(blas)


def test_user_settings_win_over_the_limit(containers):
    env = {"OMP_NUM_THREADS": "3", "XLA_FLAGS": "--xla_cpu_enable_fast_math=false"}
    out = run_python(containers, THREADS, nano_cpus=int(1e9), environment=env)
    assert out["env"]["OMP_NUM_THREADS"] == "3"
    assert out["env"]["XLA_FLAGS"] == env["XLA_FLAGS"]
    assert out["env"]["OPENBLAS_NUM_THREADS"] == "1"


def test_limit_is_applied_when_started_as_root(containers):
    out = run_python(containers, THREADS, nano_cpus=int(1e9), user="root")
    assert out["env"]["OPENBLAS_NUM_THREADS"] == "1"


def test_hook_is_installed_as_a_sourced_script(server_host):
    hook = server_host.file(HOOK)
    assert hook.is_file
    assert (hook.user, hook.mode) == ("root", 0o644)


def test_jaxlib_static_symbols_are_dropped(containers):
    # The wheel's RECORD keeps the size as shipped; the image's file lacks .symtab/.strtab.
    out = run_python(
        containers,
        """
        import json, os
        from importlib.metadata import files
        record = next(f for f in files("jaxlib") if f.name == "libjax_common.so")
        print(json.dumps({"shipped": record.size, "installed": os.path.getsize(record.locate())}))
        """,
    )
    assert out["installed"] < out["shipped"] - 50 * 10**6, out
