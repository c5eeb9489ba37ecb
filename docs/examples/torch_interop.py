import numpy as np
import torch

from lstm_sym.interop.torch import params_from_torch, params_to_torch
from lstm_sym.kernels import lstm

module = torch.nn.LSTM(input_size=3, hidden_size=16, dtype=torch.float64)
params = params_from_torch(module)  # per-gate NumPy arrays, named as on this site
xs = np.random.default_rng(0).standard_normal((5, 2, 3))

hs, state, cache = lstm.forward(xs, params)
expected, _ = module(torch.from_numpy(xs))
assert np.allclose(hs, expected.detach().numpy())

params_to_torch(params, module)  # and back, e.g. after training with the NumPy kernel
