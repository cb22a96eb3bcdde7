"""Benchmark the Numba kernel against the NumPy reference and torch.nn.RNN.

Run ``python benchmarks/bench_kernels.py`` (add ``--quick`` for fewer repeats). It prints
the machine (with the OpenBLAS kernels that NumPy and SciPy chose), the float64 GEMM rate
of this machine, the compile times of the kernel, the median time of forward + full BPTT
for each size with the speed-ups and GFLOP/s, and the training throughput of the
character model with each backend. Every timing is a median over repeats in this one
process, on the same data, one implementation at a time.

``--native-blas`` runs the same in a subprocess with ``OPENBLAS_CORETYPE`` and
``OPENBLAS_L2_SIZE`` removed from the environment: where they are set (to work around old
OpenBLAS builds) they select an older kernel (for example Haswell's AVX2 on an AVX-512
CPU), which slows current NumPy and SciPy. Tests keep them; the benchmark says which ran.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
import scipy
import torch
from numba import njit

from rnnlab import charmodel, kernels, reference
from rnnlab.lowlevel import gemm
from rnnlab.torch_bridge import to_torch_rnn

# (T, N, D, H) and the targets: speed-up over torch.nn.RNN and over the reference.
SIZES = [((100, 1, 16, 32), 40, 10), ((100, 8, 16, 32), 10, 4), ((100, 32, 32, 64), 2, 1),
         ((200, 64, 64, 128), 1, 1), ((100, 64, 256, 512), 1, 1)]
GEMM_FRACTION_TARGET = 0.45  # for the largest size
TRAIN_TARGET = 20


def median_time(f, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


OPENBLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def openblas(module) -> str:
    """Version and the kernel (core type) chosen at run time by the OpenBLAS bundled with
    NumPy or SciPy (the kernel calls SciPy's), read from the library itself."""
    libs = Path(module.__file__).parent.with_name(f"{module.__name__}.libs")
    for path in sorted(libs.glob("libscipy_openblas*.so")):
        lib = ctypes.CDLL(str(path))
        for suffix in ("64_", ""):
            config = getattr(lib, f"scipy_openblas_get_config{suffix}", None)
            core = getattr(lib, f"scipy_openblas_get_corename{suffix}", None)
            if config and core:
                config.restype = core.restype = ctypes.c_char_p
                version = config().decode().split()[1]
                return f"OpenBLAS {version} {core().decode()} kernel"
    return "BLAS unknown"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())
    env = ", ".join(f"{name}={os.environ[name]}" for name in OPENBLAS_ENV if name in os.environ)
    return (f"CPU {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
            f"NumPy {np.__version__} ({openblas(np)}), SciPy {scipy.__version__} "
            f"({openblas(scipy)}), Numba {numba.__version__}, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads); {env or 'no OPENBLAS_* overrides'}; "
            f"load average {os.getloadavg()[0]:.1f}")


def gemm_rate(n: int = 2000, repeats: int = 5) -> float:
    """float64 GFLOP/s of one large ``np.dot`` (all cores)."""
    a, b = np.random.default_rng(0).standard_normal((2, n, n))
    return 2 * n**3 / median_time(lambda: np.dot(a, b), repeats, warmup=1) / 1e9


_FIRST_CALL = """
import time
t0 = time.perf_counter()
import numpy as np
from rnnlab import kernels
t1 = time.perf_counter()
for dtype in (np.float64, np.float32):
    x, h0 = np.ones((2, 3, 4), dtype), np.zeros((2, 5), dtype)
    Wx, Wh, b = np.ones((4, 5), dtype), np.eye(5, dtype=dtype), np.zeros(5, dtype)
    hs, cache = kernels.rnn_forward(x, h0, Wx, Wh, b)
    kernels.rnn_backward(hs, cache)
    if dtype == np.float64:
        t2 = time.perf_counter()
t3 = time.perf_counter()
from rnnlab import charmodel
params = charmodel.init_char_model(5, 4, np.random.default_rng(0))
charmodel.train(params, np.arange(30) % 5, 2, seq_length=10, backend="numba", progress=False)
print(t1 - t0, t2 - t1, t3 - t2, time.perf_counter() - t3)
"""


def compile_times() -> dict[str, tuple[float, ...]]:
    """``{"cold": ..., "warm": ...}``: seconds for (import, first float64 forward +
    backward, first float32 forward + backward, first training call of the character
    model) in a fresh process, with an empty and then a filled Numba cache directory."""
    out = {}
    with tempfile.TemporaryDirectory() as cache_dir:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
        for kind in ("cold", "warm"):
            run = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, check=True,
                                 capture_output=True, text=True)
            out[kind] = tuple(float(v) for v in run.stdout.split())
    return out


def rnn_case(T: int, N: int, D: int, H: int, repeats: int) -> dict[str, float]:
    """Median seconds of forward + backward for the kernel, the reference and torch."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D))
    h0 = 0.5 * rng.standard_normal((N, H))
    Wx, Wh = rng.standard_normal((D, H)) / np.sqrt(D), rng.standard_normal((H, H)) / np.sqrt(H)
    b, dhs = 0.1 * rng.standard_normal(H), rng.standard_normal((N, T, H))

    def numpy_like(module):
        def run():
            _, cache = module.rnn_forward(x, h0, Wx, Wh, b)
            module.rnn_backward(dhs, cache)
        return run

    rnn = to_torch_rnn(Wx, Wh, b)
    x_t = torch.from_numpy(x).requires_grad_()
    h0_t = torch.from_numpy(h0[None]).requires_grad_()
    dhs_t = torch.from_numpy(dhs)

    def torch_run():
        x_t.grad = h0_t.grad = None
        rnn.zero_grad(set_to_none=True)
        hs, _ = rnn(x_t, h0_t)
        hs.backward(dhs_t)

    slow = max(1, repeats // 4) if N * T * H * H > 1e8 else repeats
    return {"kernel": median_time(numpy_like(kernels), repeats),
            "numpy": median_time(numpy_like(reference), slow),
            "torch": median_time(torch_run, repeats)}


def train_rate(backend: str, steps: int, text: np.ndarray, V: int, H: int) -> tuple[float, float]:
    """Iterations per second of :func:`rnnlab.charmodel.train`, and the mean loss of the
    last 100 steps (single steps' losses vary a lot from window to window)."""
    params = charmodel.init_char_model(V, H, np.random.default_rng(1))
    charmodel.train(params, text, 3, backend=backend, progress=False)  # warm-up, compilation
    params = charmodel.init_char_model(V, H, np.random.default_rng(1))
    start = time.perf_counter()
    losses = charmodel.train(params, text, steps, backend=backend, progress=False)
    return steps / (time.perf_counter() - start), float(np.mean(losses[-100:]))


@njit(error_model="numpy", fastmath={"reassoc"})
def _read_sum(a, reps):
    """Sum ``a`` ``reps`` times: a vectorised read, as fast as the cache holding ``a``."""
    total = 0.0
    for _ in range(reps):
        for i in range(a.size):
            total += a[i]
    return total


def train_breakdown(V: int, H: int, T: int, repeats: int) -> dict[str, float]:
    """Median microseconds of one compiled training step and of its pieces (the kernel's
    internals, each called on its own with the step's shapes), and the least time the 50
    reads of ``Wh`` can take (batch 1's recurrent products stream it once per step)."""
    rng = np.random.default_rng(3)
    params = charmodel.init_char_model(V, H, rng)
    Wx, Wh, b, Wy, by = params
    memory = [np.zeros_like(p) for p in params]
    grads = [0.01 * rng.standard_normal(p.shape) for p in params]
    ids = rng.integers(0, V, (1, T + 1))
    inputs, targets, h0 = ids[:, :-1], ids[:, 1:], np.zeros((1, H))
    lookup, WhT = np.ascontiguousarray(Wx[inputs]), np.ascontiguousarray(Wh.T)
    hs, g, work = lookup.copy(), rng.standard_normal((1, T, H)), np.empty((1, T, H))
    kernels._run_forward(hs, h0, WhT, b)
    scores, dWy, dWh = np.empty((1, T, V)), np.empty((H, V)), np.empty((H, H))
    hs2, scores2, g2 = hs.reshape(T, H), scores.reshape(T, V), g.reshape(T, H)
    gemm(hs2, Wy, scores2)
    out_scores, out_hs = scores.copy(), hs.copy()

    def forward():
        out_hs[...] = lookup
        kernels._run_forward(out_hs, h0, WhT, b)

    def backward():
        work[...] = g
        kernels._backward_steps(work, hs, Wh, False)

    def softmax():
        out_scores[...] = scores
        kernels._softmax_loss_rows(out_scores, by, targets)

    def adagrad():  # lr = 0: the weights stay as they are
        for p, d, m in zip(params, grads, memory):
            kernels._clip_adagrad(p, d, m, 0.0, 5.0, 1e-8)

    pieces = {
        "whole step": lambda: kernels.char_train_step(*params, *memory, inputs, targets, h0,
                                                      0.0, 5.0, 1e-8),
        "forward steps": forward, "backward steps": backward,
        "hs @ Wy": lambda: gemm(hs2, Wy, scores2),
        "dWy": lambda: gemm(hs2.T, scores2, dWy),
        "dscores @ Wy.T": lambda: gemm(scores2, Wy.T, g2),
        "dWh": lambda: gemm(hs2.T, g2, dWh),
        "softmax": softmax, "clipping and Adagrad": adagrad,
        "least for 50 reads of Wh": lambda: _read_sum(Wh.reshape(-1), 2 * T),
    }
    return {name: 1e6 * median_time(f, 20 * repeats) for name, f in pieces.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and steps")
    parser.add_argument("--native-blas", action="store_true",
                        help=f"run in a subprocess without {' and '.join(OPENBLAS_ENV)}")
    args = parser.parse_args()
    if args.native_blas:
        env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_ENV}
        command = [sys.executable, __file__] + (["--quick"] if args.quick else [])
        sys.exit(subprocess.run(command, env=env).returncode)
    repeats, train_steps = (5, 200) if args.quick else (21, 1000)
    torch.set_num_threads(2)

    print(machine())
    cold, warm = compile_times().values()
    print(f"compile: cold import {cold[0]:.2f} s, first float64 call {cold[1]:.2f} s, "
          f"first float32 call {cold[2]:.2f} s, first char-model training {cold[3]:.2f} s; "
          f"warm cache: import {warm[0]:.2f} s, first float64 call {warm[1]:.3f} s, "
          f"first float32 call {warm[2]:.3f} s, first char-model training {warm[3]:.3f} s")
    rate = gemm_rate()
    print(f"float64 GEMM rate (2000 x 2000 np.dot): {rate:.1f} GFLOP/s\n")

    print("| (T, N, D, H) | kernel ms | NumPy ms | torch ms | vs torch (target) "
          "| vs NumPy (target) | kernel GFLOP/s | of GEMM rate | met |")
    print("|---|---|---|---|---|---|---|---|---|")
    met = []
    for (T, N, D, H), want_torch, want_numpy in SIZES:
        times = rnn_case(T, N, D, H, repeats)
        flops = 6 * N * T * (D * H + H * H)  # forward 2NT(DH + H^2), backward twice that
        gflops = flops / times["kernel"] / 1e9
        vs_torch, vs_numpy = times["torch"] / times["kernel"], times["numpy"] / times["kernel"]
        ok = vs_torch >= want_torch and vs_numpy >= want_numpy
        if H == 512:
            ok = ok and gflops / rate >= GEMM_FRACTION_TARGET
        met.append(ok)
        print(f"| {(T, N, D, H)} | {1e3 * times['kernel']:.3f} | {1e3 * times['numpy']:.3f} "
              f"| {1e3 * times['torch']:.3f} | {vs_torch:.2f}x ({want_torch}x) "
              f"| {vs_numpy:.2f}x ({want_numpy}x) | {gflops:.1f} | {gflops / rate:.0%} "
              f"| {'yes' if ok else 'no'} |")

    V, H = 80, 100
    text = np.random.default_rng(2).integers(0, V, 20_000)
    (fast, loss_fast), (slow, loss_slow) = (train_rate(name, train_steps, text, V, H)
                                            for name in ("numba", "numpy"))
    met.append(fast / slow >= TRAIN_TARGET)
    print(f"\ntraining (V={V}, H={H}, T=25, batch 1, Adagrad, {train_steps} steps): "
          f"numba {fast:.0f} it/s, numpy {slow:.0f} it/s, ratio {fast / slow:.2f}x "
          f"(target {TRAIN_TARGET}x); mean loss of the last 100 steps {loss_fast:.4f} / "
          f"{loss_slow:.4f}")
    budget = 1e6 / (slow * TRAIN_TARGET)
    parts = train_breakdown(V, H, 25, repeats)
    print(f"training step, median us ({TRAIN_TARGET}x the NumPy reference needs "
          f"{budget:.0f} us): " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items()))
    print(f"targets met: {sum(met)} of {len(met)} (sizes, then training); load average now "
          f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
