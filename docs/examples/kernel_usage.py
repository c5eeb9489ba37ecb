import numpy as np

from lstm_sym.kernels import lstm

T, B, D, H = 20, 8, 3, 16  # steps, batch, input size, hidden size
params = lstm.init_params(D, H, seed=0)  # W_f, b_f, W_i, b_i, W_C, b_C, W_o, b_o
xs = np.random.default_rng(1).standard_normal((T, B, D))

# Whole sequence: hidden states of every step, the final state, a cache for backward.
hs, state, cache = lstm.forward(xs, params)  # initial state: zeros
assert hs.shape == (T, B, H) and state["C"].shape == (B, H)

# Backpropagation through time for the loss L = sum(hs ** 2).
grads = lstm.backward(2 * hs, cache)
assert grads["W_f"].shape == params["W_f"].shape == (H, H + D)
assert grads["xs"].shape == xs.shape and grads["h0"].shape == (B, H)

# One step at a time (e.g. generating a sequence), with its own backward.
state, step_cache = lstm.step(xs[0], None, params)
step_grads = lstm.step_backward({"h": np.ones((B, H)), "C": np.zeros((B, H))}, step_cache)
assert step_grads["h_prev"].shape == (B, H)
