import numpy as np

from lstm_sym.layers import Stack

stack = Stack("lstm", input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
params = stack.init_params(seed=0)  # "l0.W_f", "l0_reverse.W_f", ..., "l1_reverse.b_o"
xs = np.random.default_rng(0).standard_normal((5, 2, 3))  # (T, B, D)
outputs, state, cache = stack.forward(xs, params, lengths=[5, 3])  # zero past each end
grads, input_grads = stack.backward(np.ones_like(outputs), cache)  # grads: keys of params
for key in grads:
    params[key] -= 0.1 * grads[key]  # one SGD step
print(outputs.shape, state["C"].shape, input_grads["xs"].shape)  # (5, 2, 8) (4, 2, 4) (5, 2, 3)
