"""Any cell as PyTorch code: the generated module's own backward, checked against autograd."""

import torch

from lstm_sym.nn import Recurrent, sequence_function

# One layer as a function of tensors; params use the NumPy kernel's names.
f = sequence_function("peephole_lstm")
H, D = 4, 3
params = {
    name: torch.randn(shape, dtype=torch.float64, requires_grad=True)
    for name, shape in {
        "W_f": (H, H + D),
        "b_f": (H,),
        "W_i": (H, H + D),
        "b_i": (H,),
        "W_C": (H, H + D),
        "b_C": (H,),
        "W_o": (H, H + D),
        "b_o": (H,),
        "p_f": (H,),
        "p_i": (H,),
        "p_o": (H,),
    }.items()
}
xs = torch.randn(5, 2, D, dtype=torch.float64, requires_grad=True)  # (T, B, D)
hs, state = f(xs, params)  # hs (T, B, H); state {"h", "C"}, each (B, H)
inputs = (xs, *params.values())
assert torch.autograd.gradcheck(
    lambda *a: f(a[0], dict(zip(params, a[1:], strict=True)))[0], inputs
)

# Layers and directions as an nn.Module, like nn.LSTM (and convertible from and to it).
model = Recurrent("lstm", input_size=D, hidden_size=H, num_layers=2, bidirectional=True)
outputs, state = model(torch.randn(5, 2, D), lengths=[5, 3])  # zero past each end
outputs.sum().backward()
print(outputs.shape, state["C"].shape, model.l0.W_f.grad.shape)  # (5, 2, 8) (4, 2, 4) (4, 7)
reference = model.to_torch()  # an nn.LSTM with the same weights
