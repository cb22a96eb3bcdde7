"""rnnlab: the library behind the recurrent-neural-network course.

Importing it has no side effects: no seeding, no printing, no plot style, no torch.
"""

from rnnlab import gradcheck
from rnnlab.backends import get_backend
from rnnlab.config import fast_mode, steps
from rnnlab.optim import adagrad_step, sgd_momentum_step
from rnnlab.reference import (
    output_backward,
    output_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
    softmax,
    temporal_softmax_loss,
)
from rnnlab.torch_bridge import from_torch_rnn, to_torch_rnn
from rnnlab.weights import RNNWeights, init_rnn, orthogonal, xavier

__version__ = "0.1.0"

__all__ = [
    "RNNWeights",
    "adagrad_step",
    "fast_mode",
    "from_torch_rnn",
    "get_backend",
    "gradcheck",
    "init_rnn",
    "orthogonal",
    "output_backward",
    "output_forward",
    "rnn_backward",
    "rnn_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "sgd_momentum_step",
    "softmax",
    "steps",
    "temporal_softmax_loss",
    "to_torch_rnn",
    "xavier",
]
