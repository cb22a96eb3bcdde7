"""Vanishing and exploding gradients, measured (reference for unit 04).

For ``h_t = f(x_t Wx + h_{t-1} Wh + b)`` (row vectors) the one-step Jacobian is

    dh_t / dh_{t-1} = diag(f'(a_t)) Wh^T,

and the gradient reaching step ``k`` from step ``t`` passes through the product
``dh_t/dh_k = J_t J_{t-1} ... J_{k+1}``. Its norm is at most ``(gamma * sigma_max)^(t-k)``
where ``gamma`` bounds ``|f'|`` and ``sigma_max`` is the largest singular value of ``Wh``
(Pascanu, Mikolov and Bengio 2013). ``f'`` is computed from the output ``h_t`` alone:

=========== ================ =======
activation  f'(a) from h      gamma
=========== ================ =======
``tanh``    ``1 - h**2``      1
``sigmoid`` ``h (1 - h)``     1/4
``linear``  ``1``             1
``relu``    ``h > 0``         1
=========== ================ =======
"""

from __future__ import annotations

import io
import math

import numpy as np

from rnnlab.validation import check_arrays
from rnnlab.weights import orthogonal

ACTIVATIONS = ("tanh", "sigmoid", "linear", "relu")
GAMMA = {"tanh": 1.0, "sigmoid": 0.25, "linear": 1.0, "relu": 1.0}


def _check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation is {activation!r}; expected one of {ACTIVATIONS}")


def activate(a: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """``f(a)`` for one of :data:`ACTIVATIONS`."""
    _check_activation(activation)
    if activation == "tanh":
        return np.tanh(a)
    if activation == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * a))
    if activation == "relu":
        return np.maximum(a, 0.0)
    return a.copy()


def derivative_from_output(h: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """``f'(a)`` written in terms of ``h = f(a)`` (see the module's table)."""
    _check_activation(activation)
    if activation == "tanh":
        return 1.0 - h**2
    if activation == "sigmoid":
        return h * (1.0 - h)
    if activation == "relu":
        return (h > 0).astype(h.dtype)
    return np.ones_like(h)


def hidden_states(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                  b: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """All states ``hs (N, T, H)`` of ``h_t = f(x_t Wx + h_{t-1} Wh + b)`` for any activation.

    Shapes as in :func:`rnnlab.rnn_forward`: ``x (N, T, D)``, ``h0 (N, H)``, ``Wx (D, H)``,
    ``Wh (H, H)``, ``b (H,)``. Unlike :func:`rnnlab.rnn_forward` (tanh only), it returns
    the states alone, without a cache for the backward pass.
    """
    sizes = check_arrays(x=(x, "N T D"), h0=(h0, "N H"), Wx=(Wx, "D H"), Wh=(Wh, "H H"),
                         b=(b, "H"))
    hs = np.empty((sizes["N"], sizes["T"], sizes["H"]), dtype=x.dtype)
    h = h0
    for t in range(sizes["T"]):
        h = activate(x[:, t] @ Wx + h @ Wh + b, activation)
        hs[:, t] = h
    return hs


def step_jacobian(h_next: np.ndarray, Wh: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """The one-step Jacobians ``dh_t / dh_{t-1}`` of a batch.

    Parameters
    ----------
    h_next : (N, H) the states ``h_t``.
    Wh : (H, H) recurrent weights.

    Returns
    -------
    J : (N, H, H) with ``J[n, i, j] = d h_t[n, i] / d h_{t-1}[n, j] = f'_i Wh[j, i]``,
        that is ``J[n] = diag(f'(a_t[n])) Wh^T``.
    """
    check_arrays(h_next=(h_next, "N H"), Wh=(Wh, "H H"))
    return derivative_from_output(h_next, activation)[:, :, None] * Wh.T[None]


def jacobian_product_norms(hs: np.ndarray, Wh: np.ndarray,
                           activation: str = "tanh") -> np.ndarray:
    """Spectral norms of ``dh_{T-1} / dh_{T-1-l}`` for every lag ``l``.

    Parameters
    ----------
    hs : (N, T, H) states from a forward pass.
    Wh : (H, H) recurrent weights.

    Returns
    -------
    norms : (N, T) with ``norms[:, l] = ||J_{T-1} J_{T-2} ... J_{T-l}||_2`` and
        ``norms[:, 0] = 1`` (the identity).
    """
    sizes = check_arrays(hs=(hs, "N T H"), Wh=(Wh, "H H"))
    N, T, H = sizes["N"], sizes["T"], sizes["H"]
    norms = np.ones((N, T))
    product = np.broadcast_to(np.eye(H, dtype=hs.dtype), (N, H, H))
    for lag in range(1, T):
        product = product @ step_jacobian(hs[:, T - lag], Wh, activation)
        norms[:, lag] = np.linalg.norm(product, ord=2, axis=(1, 2))
    return norms


def pascanu_bound(sigma_max: float, gamma: float, lags: np.ndarray) -> np.ndarray:
    """The upper bound ``(gamma * sigma_max) ** lag`` on ``||dh_t / dh_{t-lag}||_2``.

    Below 1 (``sigma_max < 1 / gamma``) it forces the long-term gradient to vanish;
    above 1 explosion becomes possible, not certain.
    """
    return (float(gamma) * float(sigma_max)) ** np.asarray(lags, dtype=np.float64)


def gradient_norms(scale: float, activation: str = "tanh", T: int = 60, H: int = 32,
                   N: int = 16, input_std: float = 1.0, seed: int = 0) -> dict:
    """Measure the Jacobian-product norms of a random network against the bound.

    ``Wh = scale * Q`` with ``Q`` a random orthogonal matrix, so every singular value of
    ``Wh`` is ``scale``; the inputs drive each unit with ``N(0, input_std**2)`` noise
    (``input_std = 0`` leaves the network at its fixed point ``h = f(0)``).

    Returns
    -------
    dict
        ``lags (T,)``, ``norms (N, T)``, ``median (T,)`` over the batch, ``bound (T,)``,
        ``sigma_max``, ``gamma``.
    """
    _check_activation(activation)
    rng = np.random.default_rng(seed)
    Wh = orthogonal(H, rng, gain=scale)
    drive = input_std * rng.standard_normal((N, T, H))
    hs = hidden_states(drive, np.zeros((N, H)), np.eye(H), Wh, np.zeros(H), activation)
    norms = jacobian_product_norms(hs, Wh, activation)
    lags = np.arange(T)
    sigma_max = float(np.linalg.norm(Wh, 2))
    return {"lags": lags, "norms": norms, "median": np.median(norms, axis=0),
            "bound": pascanu_bound(sigma_max, GAMMA[activation], lags),
            "sigma_max": sigma_max, "gamma": GAMMA[activation]}


def sweep(scales: tuple[float, ...], activations: tuple[str, ...] = ("tanh", "sigmoid",
          "linear"), **kwargs) -> dict[tuple[str, float], dict]:
    """:func:`gradient_norms` for every activation and scale: ``{(activation, scale): ...}``."""
    return {(a, s): gradient_norms(s, a, **kwargs) for a in activations for s in scales}


def loss_cliff(b: np.ndarray, w: float = 2.5, T: int = 30, h0: float = 0.9,
               target: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Loss and its exact gradient along the bias of a one-unit tanh RNN.

    ``h_t = tanh(w h_{t-1} + b)`` from ``h0``; the loss is ``(h_T - target)^2``.

    Returns
    -------
    loss, dloss_db : arrays of ``b``'s shape.

    Notes
    -----
    With ``w > 1`` the unit has two stable states. Lower ``b`` past a critical value and
    the upper one disappears: the state falls to the lower one and the loss jumps
    (a cliff). Forward-mode derivative: ``dh_t/db = (1 - h_t^2)(w dh_{t-1}/db + 1)``.
    """
    b = np.asarray(b, dtype=np.float64)
    h, dh = np.full(b.shape, float(h0)), np.zeros(b.shape)
    for _ in range(T):
        h = np.tanh(w * h + b)
        dh = (1.0 - h**2) * (w * dh + 1.0)
    return (h - target) ** 2, 2.0 * (h - target) * dh


def overflow_run(steps: int = 10, lr: float = 0.01, scale: float = 1.0, T: int = 100,
                 H: int = 16, max_norm: float | None = None, seed: int = 0) -> dict:
    """Train a float32 ReLU RNN with ``Wh = scale * I`` by SGD on the adding problem.

    The task is the Le et al. adding problem of length ``T``. With ``scale >= 1`` the
    states and gradients grow with ``T``; one SGD step of ``lr`` then throws the weights so
    far that the next forward pass overflows float32 to ``inf`` and the loss becomes
    ``nan``. With ``max_norm`` the gradient is clipped to that global norm first.
    Training stops at the first loss that is not finite (arithmetic on NaN is slow).

    Returns
    -------
    dict
        ``losses (steps,)`` and ``grad_norms (steps,)`` (the global gradient norm before
        clipping), NaN from the first non-finite loss on.
    """
    import torch

    from rnnlab.data.adding import adding_problem
    from rnnlab.training import train

    torch.manual_seed(seed)
    rnn = torch.nn.RNN(2, H, nonlinearity="relu", batch_first=True)
    head = torch.nn.Linear(H, 1)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(scale * torch.eye(H))
    rng = np.random.default_rng(seed)

    def loss_of_step(_step: int):
        x, y = adding_problem(32, T, rng, "le")
        out, _ = rnn(torch.from_numpy(x))
        return torch.mean((head(out[:, -1])[:, 0] - torch.from_numpy(y)) ** 2)

    history = train(torch.nn.ModuleList([rnn, head]), loss_of_step, steps, lr,
                    optimizer="sgd", clip=max_norm or math.inf, progress=False)
    return {"losses": history.losses, "grad_norms": history.grad_norms}


def interactive_gradient_norms(scale: float = 1.0, activation: str = "tanh", T: int = 60,
                               H: int = 32, seed: int = 0):
    """A widget: a slider for ``sigma_max`` and a menu for the activation redraw the figure.

    The figure is a matplotlib ``Figure`` outside pyplot, rendered to a PNG in an
    ``ipywidgets.Image``, so the widget also works (and is testable) without a front end.

    Returns
    -------
    ipywidgets.VBox
        With attributes ``slider``, ``dropdown``, ``image``, ``figure``, ``ax`` and
        ``redraw()``; moving the slider or the menu redraws.
    """
    import ipywidgets
    from matplotlib.figure import Figure

    from rnnlab.gradient_plots import plot_gradient_norms

    slider = ipywidgets.FloatSlider(value=scale, min=0.2, max=6.0, step=0.1,
                                    description="σ_max(Wh)", continuous_update=False)
    dropdown = ipywidgets.Dropdown(options=list(ACTIVATIONS), value=activation,
                                   description="activation")
    image = ipywidgets.Image(format="png")
    figure = Figure(figsize=(7.0, 3.6), dpi=90)
    ax = figure.add_subplot()
    box = ipywidgets.VBox([ipywidgets.HBox([slider, dropdown]), image])

    def redraw(_change: object = None) -> None:
        ax.clear()
        result = gradient_norms(slider.value, dropdown.value, T=T, H=H, seed=seed)
        plot_gradient_norms({f"{dropdown.value}, σ_max = {slider.value:.1f}": result}, ax=ax)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
        image.value = buffer.getvalue()

    slider.observe(redraw, names="value")
    dropdown.observe(redraw, names="value")
    redraw()
    box.slider, box.dropdown, box.image, box.figure, box.ax, box.redraw = (
        slider, dropdown, image, figure, ax, redraw)
    return box
