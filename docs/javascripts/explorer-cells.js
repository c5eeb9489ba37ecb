// Generated from lstm_sym/spec/cells/lstm.cell, lstm_sym/spec/cells/rnn.cell, lstm_sym/spec/cells/gru.cell, lstm_sym/spec/cells/gru_torch.cell, lstm_sym/spec/cells/coupled_lstm.cell, lstm_sym/spec/cells/peephole_lstm.cell, lstm_sym/spec/cells/lstm_nig.cell, lstm_sym/spec/cells/lstm_nfg.cell, lstm_sym/spec/cells/lstm_nog.cell, lstm_sym/spec/cells/lstm_niaf.cell, lstm_sym/spec/cells/lstm_noaf.cell, lstm_sym/spec/cells/lstm_cifg.cell, lstm_sym/spec/cells/lstm_fgr.cell by `lstm-sym regenerate` — do not edit.
// One unit (H = 1, D = 1) of every built-in cell for the cell explorer (docs/explore.md): the
// forward step, the local derivatives and one step's adjoint equations, printed from the SymPy
// derivation. Every quantity is a property of an object made by Object.create(null): `v` holds
// the input, the previous states (`<state>_prev`), the parameters (a weight as [[w_1, …, w_k]]
// over its operand columns, a vector as [b]) and every forward value; `d` holds the adjoints;
// `seed` the incoming gradient of each new state; `lin` the products Wᵀ·δa of each linear map
// group per operand; `grad` the gradients in the NumPy kernels' shapes.
(function (cells) {
  "use strict";

  /** σ(a) = (1 + tanh(a / 2)) / 2: cannot overflow; the NumPy kernels use the same form. */
  function sigmoid(a) {
    return 0.5 * Math.tanh(0.5 * a) + 0.5;
  }

  // Generated from lstm_sym/spec/cells/lstm.cell by `lstm-sym regenerate` — do not edit.
  cells["lstm"] = {
    name: "lstm",
    title: "Long short-term memory (LSTM)",
    summary: "The lecture's LSTM: a cell state C carried from step to step, written through a forget gate, an input gate and a tanh candidate, and revealed through an output gate as the hidden state h.",
    input: "x",
    states: ["h", "C"],
    output: "h",
    parameters: {"W_f": [1, 2], "b_f": [1], "W_i": [1, 2], "b_i": [1], "W_C": [1, 2], "b_C": [1], "W_o": [1, 2], "b_o": [1]},
    linearMaps: [{"target": "a_f", "weight": "W_f", "bias": "b_f", "operands": ["h_prev", "x"]}, {"target": "a_i", "weight": "W_i", "bias": "b_i", "operands": ["h_prev", "x"]}, {"target": "a_C", "weight": "W_C", "bias": "b_C", "operands": ["h_prev", "x"]}, {"target": "a_o", "weight": "W_o", "bias": "b_o", "operands": ["h_prev", "x"]}],
    roles: {"x": "input", "h": "state", "C": "state", "W_f": "param", "b_f": "param", "W_i": "param", "b_i": "param", "W_C": "param", "b_C": "param", "W_o": "param", "b_o": "param", "a_f": "value", "f": "value", "a_i": "value", "i": "value", "a_C": "value", "C_tilde": "value", "a_o": "value", "o": "value", "tanh_C": "auxiliary"},
    docs: {"x": "input vector at step t", "h": "hidden state: what the cell reveals, the output of each step", "C": "cell state: the long-term memory passed from step to step", "W_f": "forget-gate weights", "b_f": "forget-gate bias", "W_i": "input-gate weights", "b_i": "input-gate bias", "W_C": "candidate (gate gate) weights", "b_C": "candidate (gate gate) bias", "W_o": "output-gate weights", "b_o": "output-gate bias", "a_f": "forget-gate pre-activation", "f": "forget gate: whether to erase the cell (0 erase, 1 keep)", "a_i": "input-gate pre-activation", "i": "input gate: whether to write to the cell", "a_C": "candidate pre-activation", "C_tilde": "candidate (gate gate): how much to write, in (-1, 1)", "a_o": "output-gate pre-activation", "o": "output gate: how much of the cell to reveal", "tanh_C": "cached value tanh(C)"},
    values: ["a_f", "a_i", "a_C", "a_o", "f", "i", "C_tilde", "C", "o", "tanh_C", "h"],
    gates: ["f", "i", "o"],
    forward: [
      {
        kind: "linear",
        targets: ["a_f", "a_i", "a_C", "a_o"],
        reads: ["h_prev", "x", "W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o"],
        run: function (v) {
          v.a_f = v.W_f[0][0] * v.h_prev + v.W_f[0][1] * v.x + v.b_f[0];
          v.a_i = v.W_i[0][0] * v.h_prev + v.W_i[0][1] * v.x + v.b_i[0];
          v.a_C = v.W_C[0][0] * v.h_prev + v.W_C[0][1] * v.x + v.b_C[0];
          v.a_o = v.W_o[0][0] * v.h_prev + v.W_o[0][1] * v.x + v.b_o[0];
        },
      },
      {
        kind: "value",
        targets: ["f"],
        reads: ["a_f"],
        run: function (v) {
          v.f = sigmoid(v.a_f);
        },
      },
      {
        kind: "value",
        targets: ["i"],
        reads: ["a_i"],
        run: function (v) {
          v.i = sigmoid(v.a_i);
        },
      },
      {
        kind: "value",
        targets: ["C_tilde"],
        reads: ["a_C"],
        run: function (v) {
          v.C_tilde = Math.tanh(v.a_C);
        },
      },
      {
        kind: "state",
        targets: ["C"],
        reads: ["C_prev", "C_tilde", "f", "i"],
        run: function (v) {
          v.C = v.C_prev*v.f + v.C_tilde*v.i;
        },
      },
      {
        kind: "value",
        targets: ["o"],
        reads: ["a_o"],
        run: function (v) {
          v.o = sigmoid(v.a_o);
        },
      },
      {
        kind: "auxiliary",
        targets: ["tanh_C"],
        reads: ["C"],
        run: function (v) {
          v.tanh_C = Math.tanh(v.C);
        },
      },
      {
        kind: "state",
        targets: ["h"],
        reads: ["o", "tanh_C"],
        run: function (v) {
          v.h = v.o*v.tanh_C;
        },
      },
    ],
    backward: function (v, seed) {
      const d = Object.create(null);
      const lin = Object.create(null);
      const grad = Object.create(null);
      d.h = seed.h;
      d.o = d.h*v.tanh_C;
      d.C = seed.C + d.h*v.o*(1 - Math.pow(v.tanh_C, 2));
      d.C_tilde = d.C*v.i;
      d.i = v.C_tilde*d.C;
      d.f = v.C_prev*d.C;
      d.a_f = d.f*v.f*(1 - v.f);
      d.a_i = d.i*v.i*(1 - v.i);
      d.a_C = d.C_tilde*(1 - Math.pow(v.C_tilde, 2));
      d.a_o = d.o*v.o*(1 - v.o);
      lin.h_prev__stack0 = v.W_f[0][0] * d.a_f + v.W_i[0][0] * d.a_i + v.W_C[0][0] * d.a_C + v.W_o[0][0] * d.a_o;
      lin.x__stack0 = v.W_f[0][1] * d.a_f + v.W_i[0][1] * d.a_i + v.W_C[0][1] * d.a_C + v.W_o[0][1] * d.a_o;
      d.h_prev = lin.h_prev__stack0;
      d.C_prev = d.C*v.f;
      grad.W_f = [[d.a_f * v.h_prev, d.a_f * v.x]];
      grad.b_f = [d.a_f];
      grad.W_i = [[d.a_i * v.h_prev, d.a_i * v.x]];
      grad.b_i = [d.a_i];
      grad.W_C = [[d.a_C * v.h_prev, d.a_C * v.x]];
      grad.b_C = [d.a_C];
      grad.W_o = [[d.a_o * v.h_prev, d.a_o * v.x]];
      grad.b_o = [d.a_o];
      grad.x = lin.x__stack0;
      grad.h_prev = d.h_prev;
      grad.C_prev = d.C_prev;
      return { adjoints: d, gradients: grad };
    },
    localDerivatives: [
      { of: "a_f", wrt: "h_prev", value: function (v) { return v.W_f[0][0]; } },
      { of: "a_f", wrt: "x", value: function (v) { return v.W_f[0][1]; } },
      { of: "a_i", wrt: "h_prev", value: function (v) { return v.W_i[0][0]; } },
      { of: "a_i", wrt: "x", value: function (v) { return v.W_i[0][1]; } },
      { of: "a_C", wrt: "h_prev", value: function (v) { return v.W_C[0][0]; } },
      { of: "a_C", wrt: "x", value: function (v) { return v.W_C[0][1]; } },
      { of: "a_o", wrt: "h_prev", value: function (v) { return v.W_o[0][0]; } },
      { of: "a_o", wrt: "x", value: function (v) { return v.W_o[0][1]; } },
      { of: "f", wrt: "a_f", value: function (v) { return v.f*(1 - v.f); } },
      { of: "i", wrt: "a_i", value: function (v) { return v.i*(1 - v.i); } },
      { of: "C_tilde", wrt: "a_C", value: function (v) { return 1 - Math.pow(v.C_tilde, 2); } },
      { of: "C", wrt: "C_prev", value: function (v) { return v.f; } },
      { of: "C", wrt: "C_tilde", value: function (v) { return v.i; } },
      { of: "C", wrt: "f", value: function (v) { return v.C_prev; } },
      { of: "C", wrt: "i", value: function (v) { return v.C_tilde; } },
      { of: "o", wrt: "a_o", value: function (v) { return v.o*(1 - v.o); } },
      { of: "h", wrt: "C", value: function (v) { return v.o*(1 - Math.pow(v.tanh_C, 2)); } },
      { of: "h", wrt: "o", value: function (v) { return v.tanh_C; } },
    ],
  };

  // Generated from lstm_sym/spec/cells/rnn.cell by `lstm-sym regenerate` — do not edit.
  cells["rnn"] = {
    name: "rnn",
    title: "Simple recurrent network (RNN)",
    summary: "The plain recurrent network the gated cells improve on: the new hidden state is a tanh layer of the previous hidden state and the input, with nothing that decides what to keep.",
    input: "x",
    states: ["h"],
    output: "h",
    parameters: {"W_h": [1, 2], "b_h": [1]},
    linearMaps: [{"target": "a_h", "weight": "W_h", "bias": "b_h", "operands": ["h_prev", "x"]}],
    roles: {"x": "input", "h": "state", "W_h": "param", "b_h": "param", "a_h": "value"},
    docs: {"x": "input vector at step t", "h": "hidden state: the memory and the output of each step", "W_h": "weights of the hidden-state update", "b_h": "bias of the hidden-state update", "a_h": "hidden-state pre-activation"},
    values: ["a_h", "h"],
    gates: [],
    forward: [
      {
        kind: "linear",
        targets: ["a_h"],
        reads: ["h_prev", "x", "W_h", "b_h"],
        run: function (v) {
          v.a_h = v.W_h[0][0] * v.h_prev + v.W_h[0][1] * v.x + v.b_h[0];
        },
      },
      {
        kind: "state",
        targets: ["h"],
        reads: ["a_h"],
        run: function (v) {
          v.h = Math.tanh(v.a_h);
        },
      },
    ],
    backward: function (v, seed) {
      const d = Object.create(null);
      const lin = Object.create(null);
      const grad = Object.create(null);
      d.h = seed.h;
      d.a_h = d.h*(1 - Math.pow(v.h, 2));
      lin.h_prev__stack0 = v.W_h[0][0] * d.a_h;
      lin.x__stack0 = v.W_h[0][1] * d.a_h;
      d.h_prev = lin.h_prev__stack0;
      grad.W_h = [[d.a_h * v.h_prev, d.a_h * v.x]];
      grad.b_h = [d.a_h];
      grad.x = lin.x__stack0;
      grad.h_prev = d.h_prev;
      return { adjoints: d, gradients: grad };
    },
    localDerivatives: [
      { of: "a_h", wrt: "h_prev", value: function (v) { return v.W_h[0][0]; } },
      { of: "a_h", wrt: "x", value: function (v) { return v.W_h[0][1]; } },
      { of: "h", wrt: "a_h", value: function (v) { return 1 - Math.pow(v.h, 2); } },
    ],
  };

  // Generated from lstm_sym/spec/cells/gru.cell by `lstm-sym regenerate` — do not edit.
  cells["gru"] = {
    name: "gru",
    title: "Gated recurrent unit (GRU)",
    summary: "Cho et al.'s gated recurrent unit: no separate cell state; an update gate z interpolates between the previous hidden state and a tanh candidate, and a reset gate r decides how much of the previous state the candidate sees.",
    input: "x",
    states: ["h"],
    output: "h",
    parameters: {"W_z": [1, 2], "b_z": [1], "W_r": [1, 2], "b_r": [1], "W_h": [1, 2], "b_h": [1]},
    linearMaps: [{"target": "a_z", "weight": "W_z", "bias": "b_z", "operands": ["h_prev", "x"]}, {"target": "a_r", "weight": "W_r", "bias": "b_r", "operands": ["h_prev", "x"]}, {"target": "a_h", "weight": "W_h", "bias": "b_h", "operands": ["r_h", "x"]}],
    roles: {"x": "input", "h": "state", "W_z": "param", "b_z": "param", "W_r": "param", "b_r": "param", "W_h": "param", "b_h": "param", "a_z": "value", "z": "value", "a_r": "value", "r": "value", "r_h": "value", "a_h": "value", "h_tilde": "value"},
    docs: {"x": "input vector at step t", "h": "hidden state: the memory and the output of each step", "W_z": "update-gate weights", "b_z": "update-gate bias", "W_r": "reset-gate weights", "b_r": "reset-gate bias", "W_h": "candidate weights (act on the reset previous state and the input)", "b_h": "candidate bias", "a_z": "update-gate pre-activation", "z": "update gate: how much of the candidate replaces the state (0 keep, 1 replace)", "a_r": "reset-gate pre-activation", "r": "reset gate: how much of the previous state the candidate sees", "r_h": "reset previous state: the previous hidden state scaled by the reset gate", "a_h": "candidate pre-activation", "h_tilde": "candidate hidden state, in (-1, 1)"},
    values: ["a_z", "a_r", "z", "r", "r_h", "a_h", "h_tilde", "h"],
    gates: ["z", "r"],
    forward: [
      {
        kind: "linear",
        targets: ["a_z", "a_r"],
        reads: ["h_prev", "x", "W_z", "b_z", "W_r", "b_r"],
        run: function (v) {
          v.a_z = v.W_z[0][0] * v.h_prev + v.W_z[0][1] * v.x + v.b_z[0];
          v.a_r = v.W_r[0][0] * v.h_prev + v.W_r[0][1] * v.x + v.b_r[0];
        },
      },
      {
        kind: "value",
        targets: ["z"],
        reads: ["a_z"],
        run: function (v) {
          v.z = sigmoid(v.a_z);
        },
      },
      {
        kind: "value",
        targets: ["r"],
        reads: ["a_r"],
        run: function (v) {
          v.r = sigmoid(v.a_r);
        },
      },
      {
        kind: "value",
        targets: ["r_h"],
        reads: ["h_prev", "r"],
        run: function (v) {
          v.r_h = v.h_prev*v.r;
        },
      },
      {
        kind: "linear",
        targets: ["a_h"],
        reads: ["r_h", "x", "W_h", "b_h"],
        run: function (v) {
          v.a_h = v.W_h[0][0] * v.r_h + v.W_h[0][1] * v.x + v.b_h[0];
        },
      },
      {
        kind: "value",
        targets: ["h_tilde"],
        reads: ["a_h"],
        run: function (v) {
          v.h_tilde = Math.tanh(v.a_h);
        },
      },
      {
        kind: "state",
        targets: ["h"],
        reads: ["h_prev", "h_tilde", "z"],
        run: function (v) {
          v.h = v.h_prev*(1 - v.z) + v.h_tilde*v.z;
        },
      },
    ],
    backward: function (v, seed) {
      const d = Object.create(null);
      const lin = Object.create(null);
      const grad = Object.create(null);
      d.h = seed.h;
      d.h_tilde = d.h*v.z;
      d.a_h = d.h_tilde*(1 - Math.pow(v.h_tilde, 2));
      lin.r_h__stack1 = v.W_h[0][0] * d.a_h;
      lin.x__stack1 = v.W_h[0][1] * d.a_h;
      d.r_h = lin.r_h__stack1;
      d.r = d.r_h*v.h_prev;
      d.z = d.h*(-v.h_prev + v.h_tilde);
      d.a_z = d.z*v.z*(1 - v.z);
      d.a_r = d.r*v.r*(1 - v.r);
      lin.h_prev__stack0 = v.W_z[0][0] * d.a_z + v.W_r[0][0] * d.a_r;
      lin.x__stack0 = v.W_z[0][1] * d.a_z + v.W_r[0][1] * d.a_r;
      d.h_prev = d.h*(1 - v.z) + lin.h_prev__stack0 + d.r_h*v.r;
      grad.W_z = [[d.a_z * v.h_prev, d.a_z * v.x]];
      grad.b_z = [d.a_z];
      grad.W_r = [[d.a_r * v.h_prev, d.a_r * v.x]];
      grad.b_r = [d.a_r];
      grad.W_h = [[d.a_h * v.r_h, d.a_h * v.x]];
      grad.b_h = [d.a_h];
      grad.x = lin.x__stack1 + lin.x__stack0;
      grad.h_prev = d.h_prev;
      return { adjoints: d, gradients: grad };
    },
    localDerivatives: [
      { of: "a_z", wrt: "h_prev", value: function (v) { return v.W_z[0][0]; } },
      { of: "a_z", wrt: "x", value: function (v) { return v.W_z[0][1]; } },
      { of: "a_r", wrt: "h_prev", value: function (v) { return v.W_r[0][0]; } },
      { of: "a_r", wrt: "x", value: function (v) { return v.W_r[0][1]; } },
      { of: "z", wrt: "a_z", value: function (v) { return v.z*(1 - v.z); } },
      { of: "r", wrt: "a_r", value: function (v) { return v.r*(1 - v.r); } },
      { of: "r_h", wrt: "h_prev", value: function (v) { return v.r; } },
      { of: "r_h", wrt: "r", value: function (v) { return v.h_prev; } },
      { of: "a_h", wrt: "r_h", value: function (v) { return v.W_h[0][0]; } },
      { of: "a_h", wrt: "x", value: function (v) { return v.W_h[0][1]; } },
      { of: "h_tilde", wrt: "a_h", value: function (v) { return 1 - Math.pow(v.h_tilde, 2); } },
      { of: "h", wrt: "h_prev", value: function (v) { return 1 - v.z; } },
      { of: "h", wrt: "h_tilde", value: function (v) { return v.z; } },
      { of: "h", wrt: "z", value: function (v) { return -v.h_prev + v.h_tilde; } },
    ],
  };

  // Generated from lstm_sym/spec/cells/gru_torch.cell by `lstm-sym regenerate` — do not edit.
  cells["gru_torch"] = {
    name: "gru_torch",
    title: "Gated recurrent unit, cuDNN / PyTorch form (GRU-torch)",
    summary: "The GRU as torch.nn.GRU and cuDNN compute it: the reset gate scales the recurrent product W_hn h + b_hn after the matrix multiply (so cuDNN can run all recurrent products as one GEMM), and the update gate z weighs the previous state.",
    input: "x",
    states: ["h"],
    output: "h",
    parameters: {"W_r": [1, 2], "b_r": [1], "W_z": [1, 2], "b_z": [1], "W_xn": [1, 1], "b_xn": [1], "W_hn": [1, 1], "b_hn": [1]},
    linearMaps: [{"target": "a_r", "weight": "W_r", "bias": "b_r", "operands": ["h_prev", "x"]}, {"target": "a_z", "weight": "W_z", "bias": "b_z", "operands": ["h_prev", "x"]}, {"target": "a_xn", "weight": "W_xn", "bias": "b_xn", "operands": ["x"]}, {"target": "a_hn", "weight": "W_hn", "bias": "b_hn", "operands": ["h_prev"]}],
    roles: {"x": "input", "h": "state", "W_r": "param", "b_r": "param", "W_z": "param", "b_z": "param", "W_xn": "param", "b_xn": "param", "W_hn": "param", "b_hn": "param", "a_r": "value", "r": "value", "a_z": "value", "z": "value", "a_xn": "value", "a_hn": "value", "n": "value"},
    docs: {"x": "input vector at step t", "h": "hidden state: the memory and the output of each step", "W_r": "reset-gate weights", "b_r": "reset-gate bias (torch: b_ir + b_hr)", "W_z": "update-gate weights", "b_z": "update-gate bias (torch: b_iz + b_hz)", "W_xn": "candidate weights on the input (torch: W_in)", "b_xn": "candidate bias on the input side (torch: b_in)", "W_hn": "candidate weights on the previous state (torch: W_hn)", "b_hn": "candidate bias on the recurrent side, scaled by r (torch: b_hn)", "a_r": "reset-gate pre-activation", "r": "reset gate: how much of the recurrent product the candidate sees", "a_z": "update-gate pre-activation", "z": "update gate: how much of the previous state is kept (1 keep, 0 replace)", "a_xn": "input part of the candidate pre-activation", "a_hn": "recurrent part of the candidate pre-activation, before the reset gate", "n": "candidate hidden state, in (-1, 1)"},
    values: ["a_r", "a_z", "r", "z", "a_xn", "a_hn", "n", "h"],
    gates: ["r", "z"],
    forward: [
      {
        kind: "linear",
        targets: ["a_r", "a_z"],
        reads: ["h_prev", "x", "W_r", "b_r", "W_z", "b_z"],
        run: function (v) {
          v.a_r = v.W_r[0][0] * v.h_prev + v.W_r[0][1] * v.x + v.b_r[0];
          v.a_z = v.W_z[0][0] * v.h_prev + v.W_z[0][1] * v.x + v.b_z[0];
        },
      },
      {
        kind: "value",
        targets: ["r"],
        reads: ["a_r"],
        run: function (v) {
          v.r = sigmoid(v.a_r);
        },
      },
      {
        kind: "value",
        targets: ["z"],
        reads: ["a_z"],
        run: function (v) {
          v.z = sigmoid(v.a_z);
        },
      },
      {
        kind: "linear",
        targets: ["a_xn"],
        reads: ["x", "W_xn", "b_xn"],
        run: function (v) {
          v.a_xn = v.W_xn[0][0] * v.x + v.b_xn[0];
        },
      },
      {
        kind: "linear",
        targets: ["a_hn"],
        reads: ["h_prev", "W_hn", "b_hn"],
        run: function (v) {
          v.a_hn = v.W_hn[0][0] * v.h_prev + v.b_hn[0];
        },
      },
      {
        kind: "value",
        targets: ["n"],
        reads: ["a_hn", "a_xn", "r"],
        run: function (v) {
          v.n = Math.tanh(v.a_hn*v.r + v.a_xn);
        },
      },
      {
        kind: "state",
        targets: ["h"],
        reads: ["h_prev", "n", "z"],
        run: function (v) {
          v.h = v.h_prev*v.z + v.n*(1 - v.z);
        },
      },
    ],
    backward: function (v, seed) {
      const d = Object.create(null);
      const lin = Object.create(null);
      const grad = Object.create(null);
      d.h = seed.h;
      d.n = d.h*(1 - v.z);
      d.a_hn = d.n*v.r*(1 - Math.pow(v.n, 2));
      lin.h_prev__stack2 = v.W_hn[0][0] * d.a_hn;
      d.a_xn = d.n*(1 - Math.pow(v.n, 2));
      lin.x__stack1 = v.W_xn[0][0] * d.a_xn;
      d.z = d.h*(v.h_prev - v.n);
      d.r = v.a_hn*d.n*(1 - Math.pow(v.n, 2));
      d.a_r = d.r*v.r*(1 - v.r);
      d.a_z = d.z*v.z*(1 - v.z);
      lin.h_prev__stack0 = v.W_r[0][0] * d.a_r + v.W_z[0][0] * d.a_z;
      lin.x__stack0 = v.W_r[0][1] * d.a_r + v.W_z[0][1] * d.a_z;
      d.h_prev = d.h*v.z + lin.h_prev__stack0 + lin.h_prev__stack2;
      grad.W_r = [[d.a_r * v.h_prev, d.a_r * v.x]];
      grad.b_r = [d.a_r];
      grad.W_z = [[d.a_z * v.h_prev, d.a_z * v.x]];
      grad.b_z = [d.a_z];
      grad.W_xn = [[d.a_xn * v.x]];
      grad.b_xn = [d.a_xn];
      grad.W_hn = [[d.a_hn * v.h_prev]];
      grad.b_hn = [d.a_hn];
      grad.x = lin.x__stack1 + lin.x__stack0;
      grad.h_prev = d.h_prev;
      return { adjoints: d, gradients: grad };
    },
    localDerivatives: [
      { of: "a_r", wrt: "h_prev", value: function (v) { return v.W_r[0][0]; } },
      { of: "a_r", wrt: "x", value: function (v) { return v.W_r[0][1]; } },
      { of: "a_z", wrt: "h_prev", value: function (v) { return v.W_z[0][0]; } },
      { of: "a_z", wrt: "x", value: function (v) { return v.W_z[0][1]; } },
      { of: "r", wrt: "a_r", value: function (v) { return v.r*(1 - v.r); } },
      { of: "z", wrt: "a_z", value: function (v) { return v.z*(1 - v.z); } },
      { of: "a_xn", wrt: "x", value: function (v) { return v.W_xn[0][0]; } },
      { of: "a_hn", wrt: "h_prev", value: function (v) { return v.W_hn[0][0]; } },
      { of: "n", wrt: "a_hn", value: function (v) { return v.r*(1 - Math.pow(v.n, 2)); } },
      { of: "n", wrt: "a_xn", value: function (v) { return 1 - Math.pow(v.n, 2); } },
      { of: "n", wrt: "r", value: function (v) { return v.a_hn*(1 - Math.pow(v.n, 2)); } },
      { of: "h", wrt: "h_prev", value: function (v) { return v.z; } },
      { of: "h", wrt: "n", value: function (v) { return 1 - v.z; } },
      { of: "h", wrt: "z", value: function (v) { return v.h_prev - v.n; } },
    ],
  };

  // Generated from lstm_sym/spec/cells/coupled_lstm.cell by `lstm-sym regenerate` — do not edit.
  cells["coupled_lstm"] = {
    name: "coupled_lstm",
    title: "LSTM with coupled gates, no peepholes",
    summary: "The lecture's LSTM with one gate doing the work of two: the cell keeps the fraction f of its old content and writes the fraction 1 \u2212 f of the candidate, so it writes new values only where it forgets old ones.",
    input: "x",
    states: ["h", "C"],
    output: "h",
    parameters: {"W_f": [1, 2], "b_f": [1], "W_C": [1, 2], "b_C": [1], "W_o": [1, 2], "b_o": [1]},
    linearMaps: [{"target": "a_f", "weight": "W_f", "bias": "b_f", "operands": ["h_prev", "x"]}, {"target": "a_C", "weight": "W_C", "bias": "b_C", "operands": ["h_prev", "x"]}, {"target": "a_o", "weight": "W_o", "bias": "b_o", "operands": ["h_prev", "x"]}],
    roles: {"x": "input", "h": "state", "C": "state", "W_f": "param", "b_f": "param", "W_C": "param", "b_C": "param", "W_o": "param", "b_o": "param", "a_f": "value", "f": "value", "a_C": "value", "C_tilde": "value", "a_o": "value", "o": "value", "tanh_C": "auxiliary"},
    docs: {"x": "input vector at step t", "h": "hidden state: what the cell reveals, the output of each step", "C": "cell state: the long-term memory passed from step to step", "W_f": "forget-gate weights", "b_f": "forget-gate bias", "W_C": "candidate (gate gate) weights", "b_C": "candidate (gate gate) bias", "W_o": "output-gate weights", "b_o": "output-gate bias", "a_f": "forget-gate pre-activation", "f": "forget gate: how much of the cell to keep; 1 \u2212 f of the candidate is written", "a_C": "candidate pre-activation", "C_tilde": "candidate (gate gate): what to write, in (-1, 1)", "a_o": "output-gate pre-activation", "o": "output gate: how much of the cell to reveal", "tanh_C": "cached value tanh(C)"},
    values: ["a_f", "a_C", "a_o", "f", "C_tilde", "C", "o", "tanh_C", "h"],
    gates: ["f", "o"],
    forward: [
      {
        kind: "linear",
        targets: ["a_f", "a_C", "a_o"],
        reads: ["h_prev", "x", "W_f", "b_f", "W_C", "b_C", "W_o", "b_o"],
        run: function (v) {
          v.a_f = v.W_f[0][0] * v.h_prev + v.W_f[0][1] * v.x + v.b_f[0];
          v.a_C = v.W_C[0][0] * v.h_prev + v.W_C[0][1] * v.x + v.b_C[0];
          v.a_o = v.W_o[0][0] * v.h_prev + v.W_o[0][1] * v.x + v.b_o[0];
        },
      },
      {
        kind: "value",
        targets: ["f"],
        reads: ["a_f"],
        run: function (v) {
          v.f = sigmoid(v.a_f);
        },
      },
      {
        kind: "value",
        targets: ["C_tilde"],
        reads: ["a_C"],
        run: function (v) {
          v.C_tilde = Math.tanh(v.a_C);
        },
      },
      {
        kind: "state",
        targets: ["C"],
        reads: ["C_prev", "C_tilde", "f"],
        run: function (v) {
          v.C = v.C_prev*v.f + v.C_tilde*(1 - v.f);
        },
      },
      {
        kind: "value",
        targets: ["o"],
        reads: ["a_o"],
        run: function (v) {
          v.o = sigmoid(v.a_o);
        },
      },
      {
        kind: "auxiliary",
        targets: ["tanh_C"],
        reads: ["C"],
        run: function (v) {
          v.tanh_C = Math.tanh(v.C);
        },
      },
      {
        kind: "state",
        targets: ["h"],
        reads: ["o", "tanh_C"],
        run: function (v) {
          v.h = v.o*v.tanh_C;
        },
      },
    ],
    backward: function (v, seed) {
      const d = Object.create(null);
      const lin = Object.create(null);
      const grad = Object.create(null);
      d.h = seed.h;
      d.o = d.h*v.tanh_C;
      d.C = seed.C + d.h*v.o*(1 - Math.pow(v.tanh_C, 2));
      d.C_tilde = d.C*(1 - v.f);
      d.f = d.C*(v.C_prev - v.C_tilde);
      d.a_f = d.f*v.f*(1 - v.f);
      d.a_C = d.C_tilde*(1 - Math.pow(v.C_tilde, 2));
      d.a_o = d.o*v.o*(1 - v.o);
      lin.h_prev__stack0 = v.W_f[0][0] * d.a_f + v.W_C[0][0] * d.a_C + v.W_o[0][0] * d.a_o;
      lin.x__stack0 = v.W_f[0][1] * d.a_f + v.W_C[0][1] * d.a_C + v.W_o[0][1] * d.a_o;
      d.h_prev = lin.h_prev__stack0;
      d.C_prev = d.C*v.f;
      grad.W_f = [[d.a_f * v.h_prev, d.a_f * v.x]];
      grad.b_f = [d.a_f];
      grad.W_C = [[d.a_C * v.h_prev, d.a_C * v.x]];
      grad.b_C = [d.a_C];
      grad.W_o = [[d.a_o * v.h_prev, d.a_o * v.x]];
      grad.b_o = [d.a_o];
      grad.x = lin.x__stack0;
      grad.h_prev = d.h_prev;
      grad.C_prev = d.C_prev;
      return { adjoints: d, gradients: grad };
    },
    localDerivatives: [
      { of: "a_f", wrt: "h_prev", value: function (v) { return v.W_f[0][0]; } },
      { of: "a_f", wrt: "x", value: function (v) { return v.W_f[0][1]; } },
      { of: "a_C", wrt: "h_prev", value: function (v) { return v.W_C[0][0]; } },
      { of: "a_C", wrt: "x", value: function (v) { return v.W_C[0][1]; } },
      { of: "a_o", wrt: "h_prev", value: function (v) { return v.W_o[0][0]; } },
      { of: "a_o", wrt: "x", value: function (v) { return v.W_o[0][1]; } },
      { of: "f", wrt: "a_f", value: function (v) { return v.f*(1 - v.f); } },
      { of: "C_tilde", wrt: "a_C", value: function (v) { return 1 - Math.pow(v.C_tilde, 2); } },
      { of: "C", wrt: "C_prev", value: function (v) { return v.f; } },
      { of: "C", wrt: "C_tilde", value: function (v) { return 1 - v.f; } },
      { of: "C", wrt: "f", value: function (v) { return v.C_prev - v.C_tilde; } },
      { of: "o", wrt: "a_o", value: function (v) { return v.o*(1 - v.o); } },
      { of: "h", wrt: "C", value: function (v) { return v.o*(1 - Math.pow(v.tanh_C, 2)); } },
      { of: "h", wrt: "o", value: function (v) { return v.tanh_C; } },
    ],
  };

  // Generated from lstm_sym/spec/cells/peephole_lstm.cell by `lstm-sym regenerate` — do not edit.
  cells["peephole_lstm"] = {
    name: "peephole_lstm",
    title: "LSTM with peephole connections",
    summary: "The lecture's LSTM with peephole connections (Gers and Schmidhuber, 2000): the forget and input gates also see the previous cell state, the output gate the new cell state, each through a vector of diagonal weights. Greff et al. (2017) call it the vanilla LSTM.",
    input: "x",
    states: ["h", "C"],
    output: "h",
    parameters: {"W_f": [1, 2], "b_f": [1], "W_i": [1, 2], "b_i": [1], "W_C": [1, 2], "b_C": [1], "W_o": [1, 2], "b_o": [1], "p_f": [1], "p_i": [1], "p_o": [1]},
    linearMaps: [{"target": "a_f", "weight": "W_f", "bias": "b_f", "operands": ["h_prev", "x"]}, {"target": "a_i", "weight": "W_i", "bias": "b_i", "operands": ["h_prev", "x"]}, {"target": "a_C", "weight": "W_C", "bias": "b_C", "operands": ["h_prev", "x"]}, {"target": "a_o", "weight": "W_o", "bias": "b_o", "operands": ["h_prev", "x"]}],
    roles: {"x": "input", "h": "state", "C": "state", "W_f": "param", "b_f": "param", "W_i": "param", "b_i": "param", "W_C": "param", "b_C": "param", "W_o": "param", "b_o": "param", "p_f": "param", "p_i": "param", "p_o": "param", "a_f": "value", "f": "value", "a_i": "value", "i": "value", "a_C": "value", "C_tilde": "value", "a_o": "value", "o": "value", "tanh_C": "auxiliary"},
    docs: {"x": "input vector at step t", "h": "hidden state: what the cell reveals, the output of each step", "C": "cell state: the long-term memory passed from step to step", "W_f": "forget-gate weights", "b_f": "forget-gate bias", "W_i": "input-gate weights", "b_i": "input-gate bias", "W_C": "candidate (block input) weights", "b_C": "candidate (block input) bias", "W_o": "output-gate weights", "b_o": "output-gate bias", "p_f": "forget-gate peephole: diagonal weights on the previous cell state", "p_i": "input-gate peephole: diagonal weights on the previous cell state", "p_o": "output-gate peephole: diagonal weights on the new cell state", "a_f": "forget-gate pre-activation, before the peephole term", "f": "forget gate: whether to erase the cell (0 erase, 1 keep)", "a_i": "input-gate pre-activation, before the peephole term", "i": "input gate: whether to write to the cell", "a_C": "candidate pre-activation", "C_tilde": "candidate (block input): what to write, in (-1, 1)", "a_o": "output-gate pre-activation, before the peephole term", "o": "output gate: how much of the cell to reveal", "tanh_C": "cached value tanh(C)"},
    values: ["a_f", "a_i", "a_C", "a_o", "f", "i", "C_tilde", "C", "o", "tanh_C", "h"],
    gates: ["f", "i", "o"],
    forward: [
      {
        kind: "linear",
        targets: ["a_f", "a_i", "a_C", "a_o"],
        reads: ["h_prev", "x", "W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o"],
        run: function (v) {
          v.a_f = v.W_f[0][0] * v.h_prev + v.W_f[0][1] * v.x + v.b_f[0];
          v.a_i = v.W_i[0][0] * v.h_prev + v.W_i[0][1] * v.x + v.b_i[0];
          v.a_C = v.W_C[0][0] * v.h_prev + v.W_C[0][1] * v.x + v.b_C[0];
          v.a_o = v.W_o[0][0] * v.h_prev + v.W_o[0][1] * v.x + v.b_o[0];
        },
      },
      {
        kind: "value",
        targets: ["f"],
        reads: ["C_prev", "a_f", "p_f"],
        run: function (v) {
          v.f = sigmoid(v.C_prev*v.p_f + v.a_f);
        },
      },
      {
        kind: "value",
        targets: ["i"],
        reads: ["C_prev", "a_i", "p_i"],
        run: function (v) {
          v.i = sigmoid(v.C_prev*v.p_i + v.a_i);
        },
      },
      {
        kind: "value",
        targets: ["C_tilde"],
        reads: ["a_C"],
        run: function (v) {
          v.C_tilde = Math.tanh(v.a_C);
        },
      },
      {
        kind: "state",
        targets: ["C"],
        reads: ["C_prev", "C_tilde", "f", "i"],
        run: function (v) {
          v.C = v.C_prev*v.f + v.C_tilde*v.i;
        },
      },
      {
        kind: "value",
        targets: ["o"],
        reads: ["C", "a_o", "p_o"],
        run: function (v) {
          v.o = sigmoid(v.C*v.p_o + v.a_o);
        },
      },
      {
        kind: "auxiliary",
        targets: ["tanh_C"],
        reads: ["C"],
        run: function (v) {
          v.tanh_C = Math.tanh(v.C);
        },
      },
      {
        kind: "state",
        targets: ["h"],
        reads: ["o", "tanh_C"],
        run: function (v) {
          v.h = v.o*v.tanh_C;
        },
      },
    ],
    backward: function (v, seed) {
      const d = Object.create(null);
      const lin = Object.create(null);
      const grad = Object.create(null);
      d.h = seed.h;
      d.o = d.h*v.tanh_C;
      d.C = seed.C + d.h*v.o*(1 - Math.pow(v.tanh_C, 2)) + d.o*v.o*v.p_o*(1 - v.o);
      d.C_tilde = d.C*v.i;
      d.i = v.C_tilde*d.C;
      d.f = v.C_prev*d.C;
      d.a_f = d.f*v.f*(1 - v.f);
      d.a_i = d.i*v.i*(1 - v.i);
      d.a_C = d.C_tilde*(1 - Math.pow(v.C_tilde, 2));
      d.a_o = d.o*v.o*(1 - v.o);
      lin.h_prev__stack0 = v.W_f[0][0] * d.a_f + v.W_i[0][0] * d.a_i + v.W_C[0][0] * d.a_C + v.W_o[0][0] * d.a_o;
      lin.x__stack0 = v.W_f[0][1] * d.a_f + v.W_i[0][1] * d.a_i + v.W_C[0][1] * d.a_C + v.W_o[0][1] * d.a_o;
      d.p_f = v.C_prev*d.f*v.f*(1 - v.f);
      d.p_i = v.C_prev*d.i*v.i*(1 - v.i);
      d.p_o = v.C*d.o*v.o*(1 - v.o);
      d.h_prev = lin.h_prev__stack0;
      d.C_prev = d.C*v.f + d.f*v.f*v.p_f*(1 - v.f) + d.i*v.i*v.p_i*(1 - v.i);
      grad.W_f = [[d.a_f * v.h_prev, d.a_f * v.x]];
      grad.b_f = [d.a_f];
      grad.W_i = [[d.a_i * v.h_prev, d.a_i * v.x]];
      grad.b_i = [d.a_i];
      grad.W_C = [[d.a_C * v.h_prev, d.a_C * v.x]];
      grad.b_C = [d.a_C];
      grad.W_o = [[d.a_o * v.h_prev, d.a_o * v.x]];
      grad.b_o = [d.a_o];
      grad.p_f = [d.p_f];
      grad.p_i = [d.p_i];
      grad.p_o = [d.p_o];
      grad.x = lin.x__stack0;
      grad.h_prev = d.h_prev;
      grad.C_prev = d.C_prev;
      return { adjoints: d, gradients: grad };
    },
    localDerivatives: [
      { of: "a_f", wrt: "h_prev", value: function (v) { return v.W_f[0][0]; } },
      { of: "a_f", wrt: "x", value: function (v) { return v.W_f[0][1]; } },
      { of: "a_i", wrt: "h_prev", value: function (v) { return v.W_i[0][0]; } },
      { of: "a_i", wrt: "x", value: function (v) { return v.W_i[0][1]; } },
      { of: "a_C", wrt: "h_prev", value: function (v) { return v.W_C[0][0]; } },
      { of: "a_C", wrt: "x", value: function (v) { return v.W_C[0][1]; } },
      { of: "a_o", wrt: "h_prev", value: function (v) { return v.W_o[0][0]; } },
      { of: "a_o", wrt: "x", value: function (v) { return v.W_o[0][1]; } },
      { of: "f", wrt: "C_prev", value: function (v) { return v.f*v.p_f*(1 - v.f); } },
      { of: "f", wrt: "a_f", value: function (v) { return v.f*(1 - v.f); } },
      { of: "f", wrt: "p_f", value: function (v) { return v.C_prev*v.f*(1 - v.f); } },
      { of: "i", wrt: "C_prev", value: function (v) { return v.i*v.p_i*(1 - v.i); } },
      { of: "i", wrt: "a_i", value: function (v) { return v.i*(1 - v.i); } },
      { of: "i", wrt: "p_i", value: function (v) { return v.C_prev*v.i*(1 - v.i); } },
      { of: "C_tilde", wrt: "a_C", value: function (v) { return 1 - Math.pow(v.C_tilde, 2); } },
      { of: "C", wrt: "C_prev", value: function (v) { return v.f; } },
      { of: "C", wrt: "C_tilde", value: function (v) { return v.i; } },
      { of: "C", wrt: "f", value: function (v) { return v.C_prev; } },
      { of: "C", wrt: "i", value: function (v) { return v.C_tilde; } },
      { of: "o", wrt: "C", value: function (v) { return v.o*v.p_o*(1 - v.o); } },
      { of: "o", wrt: "a_o", value: function (v) { return v.o*(1 - v.o); } },
      { of: "o", wrt: "p_o", value: function (v) { return v.C*v.o*(1 - v.o); } },
      { of: "h", wrt: "C", value: function (v) { return v.o*(1 - Math.pow(v.tanh_C, 2)); } },
      { of: "h", wrt: "o", value: function (v) { return v.tanh_C; } },
    ],
  };

  // Generated from lstm_sym/spec/cells/lstm_nig.cell by `lstm-sym regenerate` — do not edit.
  cells["lstm_nig"] = {
    name: "lstm_nig",
    title: "Peephole LSTM without input gate (NIG)",
    summary: "Greff et al.'s NIG variant of the peephole LSTM: the input gate is fixed at one, so every step adds the whole candidate to the cell state.",
    input: "x",
    states: ["h", "C"],
    output: "h",
    parameters: {"W_f": [1, 2], "b_f": [1], "W_C": [1, 2], "b_C": [1], "W_o": [1, 2], "b_o": [1], "p_f": [1], "p_o": [1]},
    linearMaps: [{"target": "a_f", "weight": "W_f", "bias": "b_f", "operands": ["h_prev", "x"]}, {"target": "a_C", "weight": "W_C", "bias": "b_C", "operands": ["h_prev", "x"]}, {"target": "a_o", "weight": "W_o", "bias": "b_o", "operands": ["h_prev", "x"]}],
    roles: {"x": "input", "h": "state", "C": "state", "W_f": "param", "b_f": "param", "W_C": "param", "b_C": "param", "W_o": "param", "b_o": "param", "p_f": "param", "p_o": "param", "a_f": "value", "f": "value", "a_C": "value", "C_tilde": "value", "a_o": "value", "o": "value", "tanh_C": "auxiliary"},
    docs: {"x": "input vector at step t", "h": "hidden state: what the cell reveals, the output of each step", "C": "cell state: the long-term memory passed from step to step", "W_f": "forget-gate weights", "b_f": "forget-gate bias", "W_C": "candidate (block input) weights", "b_C": "candidate (block input) bias", "W_o": "output-gate weights", "b_o": "output-gate bias", "p_f": "forget-gate peephole: diagonal weights on the previous cell state", "p_o": "output-gate peephole: diagonal weights on the new cell state", "a_f": "forget-gate pre-activation, before the peephole term", "f": "forget gate: whether to erase the cell (0 erase, 1 keep)", "a_C": "candidate pre-activation", "C_tilde": "candidate (block input): what to write, in (-1, 1)", "a_o": "output-gate pre-activation, before the peephole term", "o": "output gate: how much of the cell to reveal", "tanh_C": "cached value tanh(C)"},
    values: ["a_f", "a_C", "a_o", "f", "C_tilde", "C", "o", "tanh_C", "h"],
    gates: ["f", "o"],
    forward: [
      {
        kind: "linear",
        targets: ["a_f", "a_C", "a_o"],
        reads: ["h_prev", "x", "W_f", "b_f", "W_C", "b_C", "W_o", "b_o"],
        run: function (v) {
          v.a_f = v.W_f[0][0] * v.h_prev + v.W_f[0][1] * v.x + v.b_f[0];
          v.a_C = v.W_C[0][0] * v.h_prev + v.W_C[0][1] * v.x + v.b_C[0];
          v.a_o = v.W_o[0][0] * v.h_prev + v.W_o[0][1] * v.x + v.b_o[0];
        },
      },
      {
        kind: "value",
        targets: ["f"],
        reads: ["C_prev", "a_f", "p_f"],
        run: function (v) {
          v.f = sigmoid(v.C_prev*v.p_f + v.a_f);
        },
      },
      {
        kind: "value",
        targets: ["C_tilde"],
        reads: ["a_C"],
        run: function (v) {
          v.C_tilde = Math.tanh(v.a_C);
        },
      },
      {
        kind: "state",
        targets: ["C"],
        reads: ["C_prev", "C_tilde", "f"],
        run: function (v) {
          v.C = v.C_prev*v.f + v.C_tilde;
        },
      },
      {
        kind: "value",
        targets: ["o"],
        reads: ["C", "a_o", "p_o"],
        run: function (v) {
          v.o = sigmoid(v.C*v.p_o + v.a_o);
        },
      },
      {
        kind: "auxiliary",
        targets: ["tanh_C"],
        reads: ["C"],
        run: function (v) {
          v.tanh_C = Math.tanh(v.C);
        },
      },
      {
        kind: "state",
        targets: ["h"],
        reads: ["o", "tanh_C"],
        run: function (v) {
          v.h = v.o*v.tanh_C;
        },
      },
    ],
    backward: function (v, seed) {
      const d = Object.create(null);
      const lin = Object.create(null);
      const grad = Object.create(null);
      d.h = seed.h;
      d.o = d.h*v.tanh_C;
      d.C = seed.C + d.h*v.o*(1 - Math.pow(v.tanh_C, 2)) + d.o*v.o*v.p_o*(1 - v.o);
      d.C_tilde = d.C;
      d.f = v.C_prev*d.C;
      d.a_f = d.f*v.f*(1 - v.f);
      d.a_C = d.C_tilde*(1 - Math.pow(v.C_tilde, 2));
      d.a_o = d.o*v.o*(1 - v.o);
      lin.h_prev__stack0 = v.W_f[0][0] * d.a_f + v.W_C[0][0] * d.a_C + v.W_o[0][0] * d.a_o;
      lin.x__stack0 = v.W_f[0][1] * d.a_f + v.W_C[0][1] * d.a_C + v.W_o[0][1] * d.a_o;
      d.p_f = v.C_prev*d.f*v.f*(1 - v.f);
      d.p_o = v.C*d.o*v.o*(1 - v.o);
      d.h_prev = lin.h_prev__stack0;
      d.C_prev = d.C*v.f + d.f*v.f*v.p_f*(1 - v.f);
      grad.W_f = [[d.a_f * v.h_prev, d.a_f * v.x]];
      grad.b_f = [d.a_f];
      grad.W_C = [[d.a_C * v.h_prev, d.a_C * v.x]];
      grad.b_C = [d.a_C];
      grad.W_o = [[d.a_o * v.h_prev, d.a_o * v.x]];
      grad.b_o = [d.a_o];
      grad.p_f = [d.p_f];
      grad.p_o = [d.p_o];
      grad.x = lin.x__stack0;
      grad.h_prev = d.h_prev;
      grad.C_prev = d.C_prev;
      return { adjoints: d, gradients: grad };
    },
    localDerivatives: [
      { of: "a_f", wrt: "h_prev", value: function (v) { return v.W_f[0][0]; } },
      { of: "a_f", wrt: "x", value: function (v) { return v.W_f[0][1]; } },
      { of: "a_C", wrt: "h_prev", value: function (v) { return v.W_C[0][0]; } },
      { of: "a_C", wrt: "x", value: function (v) { return v.W_C[0][1]; } },
      { of: "a_o", wrt: "h_prev", value: function (v) { return v.W_o[0][0]; } },
      { of: "a_o", wrt: "x", value: function (v) { return v.W_o[0][1]; } },
      { of: "f", wrt: "C_prev", value: function (v) { return v.f*v.p_f*(1 - v.f); } },
      { of: "f", wrt: "a_f", value: function (v) { return v.f*(1 - v.f); } },
      { of: "f", wrt: "p_f", value: function (v) { return v.C_prev*v.f*(1 - v.f); } },
      { of: "C_tilde", wrt: "a_C", value: function (v) { return 1 - Math.pow(v.C_tilde, 2); } },
      { of: "C", wrt: "C_prev", value: function (v) { return v.f; } },
      { of: "C", wrt: "C_tilde", value: function (v) { return 1; } },
      { of: "C", wrt: "f", value: function (v) { return v.C_prev; } },
      { of: "o", wrt: "C", value: function (v) { return v.o*v.p_o*(1 - v.o); } },
      { of: "o", wrt: "a_o", value: function (v) { return v.o*(1 - v.o); } },
      { of: "o", wrt: "p_o", value: function (v) { return v.C*v.o*(1 - v.o); } },
      { of: "h", wrt: "C", value: function (v) { return v.o*(1 - Math.pow(v.tanh_C, 2)); } },
      { of: "h", wrt: "o", value: function (v) { return v.tanh_C; } },
    ],
  };

  // Generated from lstm_sym/spec/cells/lstm_nfg.cell by `lstm-sym regenerate` — do not edit.
  cells["lstm_nfg"] = {
    name: "lstm_nfg",
    title: "Peephole LSTM without forget gate (NFG)",
    summary: "Greff et al.'s NFG variant of the peephole LSTM: the forget gate is fixed at one, so the cell state only accumulates, as in Hochreiter and Schmidhuber's original LSTM of 1997.",
    input: "x",
    states: ["h", "C"],
    output: "h",
    parameters: {"W_i": [1, 2], "b_i": [1], "W_C": [1, 2], "b_C": [1], "W_o": [1, 2], "b_o": [1], "p_i": [1], "p_o": [1]},
    linearMaps: [{"target": "a_i", "weight": "W_i", "bias": "b_i", "operands": ["h_prev", "x"]}, {"target": "a_C", "weight": "W_C", "bias": "b_C", "operands": ["h_prev", "x"]}, {"target": "a_o", "weight": "W_o", "bias": "b_o", "operands": ["h_prev", "x"]}],
    roles: {"x": "input", "h": "state", "C": "state", "W_i": "param", "b_i": "param", "W_C": "param", "b_C": "param", "W_o": "param", "b_o": "param", "p_i": "param", "p_o": "param", "a_i": "value", "i": "value", "a_C": "value", "C_tilde": "value", "a_o": "value", "o": "value", "tanh_C": "auxiliary"},
    docs: {"x": "input vector at step t", "h": "hidden state: what the cell reveals, the output of each step", "C": "cell state: the long-term memory passed from step to step", "W_i": "input-gate weights", "b_i": "input-gate bias", "W_C": "candidate (block input) weights", "b_C": "candidate (block input) bias", "W_o": "output-gate weights", "b_o": "output-gate bias", "p_i": "input-gate peephole: diagonal weights on the previous cell state", "p_o": "output-gate peephole: diagonal weights on the new cell state", "a_i": "input-gate pre-activation, before the peephole term", "i": "input gate: whether to write to the cell", "a_C": "candidate pre-activation", "C_tilde": "candidate (block input): what to write, in (-1, 1)", "a_o": "output-gate pre-activation, before the peephole term", "o": "output gate: how much of the cell to reveal", "tanh_C": "cached value tanh(C)"},
    values: ["a_i", "a_C", "a_o", "i", "C_tilde", "C", "o", "tanh_C", "h"],
    gates: ["i", "o"],
    forward: [
      {
        kind: "linear",
        targets: ["a_i", "a_C", "a_o"],
        reads: ["h_prev", "x", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o"],
        run: function (v) {
          v.a_i = v.W_i[0][0] * v.h_prev + v.W_i[0][1] * v.x + v.b_i[0];
          v.a_C = v.W_C[0][0] * v.h_prev + v.W_C[0][1] * v.x + v.b_C[0];
          v.a_o = v.W_o[0][0] * v.h_prev + v.W_o[0][1] * v.x + v.b_o[0];
        },
      },
      {
        kind: "value",
        targets: ["i"],
        reads: ["C_prev", "a_i", "p_i"],
        run: function (v) {
          v.i = sigmoid(v.C_prev*v.p_i + v.a_i);
        },
      },
      {
        kind: "value",
        targets: ["C_tilde"],
        reads: ["a_C"],
        run: function (v) {
          v.C_tilde = Math.tanh(v.a_C);
        },
      },
      {
        kind: "state",
        targets: ["C"],
        reads: ["C_prev", "C_tilde", "i"],
        run: function (v) {
          v.C = v.C_prev + v.C_tilde*v.i;
        },
      },
      {
        kind: "value",
        targets: ["o"],
        reads: ["C", "a_o", "p_o"],
        run: function (v) {
          v.o = sigmoid(v.C*v.p_o + v.a_o);
        },
      },
      {
        kind: "auxiliary",
        targets: ["tanh_C"],
        reads: ["C"],
        run: function (v) {
          v.tanh_C = Math.tanh(v.C);
        },
      },
      {
        kind: "state",
        targets: ["h"],
        reads: ["o", "tanh_C"],
        run: function (v) {
          v.h = v.o*v.tanh_C;
        },
      },
    ],
    backward: function (v, seed) {
      const d = Object.create(null);
      const lin = Object.create(null);
      const grad = Object.create(null);
      d.h = seed.h;
      d.o = d.h*v.tanh_C;
      d.C = seed.C + d.h*v.o*(1 - Math.pow(v.tanh_C, 2)) + d.o*v.o*v.p_o*(1 - v.o);
      d.C_tilde = d.C*v.i;
      d.i = v.C_tilde*d.C;
      d.a_i = d.i*v.i*(1 - v.i);
      d.a_C = d.C_tilde*(1 - Math.pow(v.C_tilde, 2));
      d.a_o = d.o*v.o*(1 - v.o);
      lin.h_prev__stack0 = v.W_i[0][0] * d.a_i + v.W_C[0][0] * d.a_C + v.W_o[0][0] * d.a_o;
      lin.x__stack0 = v.W_i[0][1] * d.a_i + v.W_C[0][1] * d.a_C + v.W_o[0][1] * d.a_o;
      d.p_i = v.C_prev*d.i*v.i*(1 - v.i);
      d.p_o = v.C*d.o*v.o*(1 - v.o);
      d.h_prev = lin.h_prev__stack0;
      d.C_prev = d.C + d.i*v.i*v.p_i*(1 - v.i);
      grad.W_i = [[d.a_i * v.h_prev, d.a_i * v.x]];
      grad.b_i = [d.a_i];
      grad.W_C = [[d.a_C * v.h_prev, d.a_C * v.x]];
      grad.b_C = [d.a_C];
      grad.W_o = [[d.a_o * v.h_prev, d.a_o * v.x]];
      grad.b_o = [d.a_o];
      grad.p_i = [d.p_i];
      grad.p_o = [d.p_o];
      grad.x = lin.x__stack0;
      grad.h_prev = d.h_prev;
      grad.C_prev = d.C_prev;
      return { adjoints: d, gradients: grad };
    },
    localDerivatives: [
      { of: "a_i", wrt: "h_prev", value: function (v) { return v.W_i[0][0]; } },
      { of: "a_i", wrt: "x", value: function (v) { return v.W_i[0][1]; } },
      { of: "a_C", wrt: "h_prev", value: function (v) { return v.W_C[0][0]; } },
      { of: "a_C", wrt: "x", value: function (v) { return v.W_C[0][1]; } },
      { of: "a_o", wrt: "h_prev", value: function (v) { return v.W_o[0][0]; } },
      { of: "a_o", wrt: "x", value: function (v) { return v.W_o[0][1]; } },
      { of: "i", wrt: "C_prev", value: function (v) { return v.i*v.p_i*(1 - v.i); } },
      { of: "i", wrt: "a_i", value: function (v) { return v.i*(1 - v.i); } },
      { of: "i", wrt: "p_i", value: function (v) { return v.C_prev*v.i*(1 - v.i); } },
      { of: "C_tilde", wrt: "a_C", value: function (v) { return 1 - Math.pow(v.C_tilde, 2); } },
      { of: "C", wrt: "C_prev", value: function (v) { return 1; } },
      { of: "C", wrt: "C_tilde", value: function (v) { return v.i; } },
      { of: "C", wrt: "i", value: function (v) { return v.C_tilde; } },
      { of: "o", wrt: "C", value: function (v) { return v.o*v.p_o*(1 - v.o); } },
      { of: "o", wrt: "a_o", value: function (v) { return v.o*(1 - v.o); } },
      { of: "o", wrt: "p_o", value: function (v) { return v.C*v.o*(1 - v.o); } },
      { of: "h", wrt: "C", value: function (v) { return v.o*(1 - Math.pow(v.tanh_C, 2)); } },
      { of: "h", wrt: "o", value: function (v) { return v.tanh_C; } },
    ],
  };

  // Generated from lstm_sym/spec/cells/lstm_nog.cell by `lstm-sym regenerate` — do not edit.
  cells["lstm_nog"] = {
    name: "lstm_nog",
    title: "Peephole LSTM without output gate (NOG)",
    summary: "Greff et al.'s NOG variant of the peephole LSTM: the output gate is fixed at one, so the hidden state is the squashed cell state, all of it.",
    input: "x",
    states: ["h", "C"],
    output: "h",
    parameters: {"W_f": [1, 2], "b_f": [1], "W_i": [1, 2], "b_i": [1], "W_C": [1, 2], "b_C": [1], "p_f": [1], "p_i": [1]},
    linearMaps: [{"target": "a_f", "weight": "W_f", "bias": "b_f", "operands": ["h_prev", "x"]}, {"target": "a_i", "weight": "W_i", "bias": "b_i", "operands": ["h_prev", "x"]}, {"target": "a_C", "weight": "W_C", "bias": "b_C", "operands": ["h_prev", "x"]}],
    roles: {"x": "input", "h": "state", "C": "state", "W_f": "param", "b_f": "param", "W_i": "param", "b_i": "param", "W_C": "param", "b_C": "param", "p_f": "param", "p_i": "param", "a_f": "value", "f": "value", "a_i": "value", "i": "value", "a_C": "value", "C_tilde": "value"},
    docs: {"x": "input vector at step t", "h": "hidden state: what the cell reveals, the output of each step", "C": "cell state: the long-term memory passed from step to step", "W_f": "forget-gate weights", "b_f": "forget-gate bias", "W_i": "input-gate weights", "b_i": "input-gate bias", "W_C": "candidate (block input) weights", "b_C": "candidate (block input) bias", "p_f": "forget-gate peephole: diagonal weights on the previous cell state", "p_i": "input-gate peephole: diagonal weights on the previous cell state", "a_f": "forget-gate pre-activation, before the peephole term", "f": "forget gate: whether to erase the cell (0 erase, 1 keep)", "a_i": "input-gate pre-activation, before the peephole term", "i": "input gate: whether to write to the cell", "a_C": "candidate pre-activation", "C_tilde": "candidate (block input): what to write, in (-1, 1)"},
    values: ["a_f", "a_i", "a_C", "f", "i", "C_tilde", "C", "h"],
    gates: ["f", "i"],
    forward: [
      {
        kind: "linear",
        targets: ["a_f", "a_i", "a_C"],
        reads: ["h_prev", "x", "W_f", "b_f", "W_i", "b_i", "W_C", "b_C"],
        run: function (v) {
          v.a_f = v.W_f[0][0] * v.h_prev + v.W_f[0][1] * v.x + v.b_f[0];
          v.a_i = v.W_i[0][0] * v.h_prev + v.W_i[0][1] * v.x + v.b_i[0];
          v.a_C = v.W_C[0][0] * v.h_prev + v.W_C[0][1] * v.x + v.b_C[0];
        },
      },
      {
        kind: "value",
        targets: ["f"],
        reads: ["C_prev", "a_f", "p_f"],
        run: function (v) {
          v.f = sigmoid(v.C_prev*v.p_f + v.a_f);
        },
      },
      {
        kind: "value",
        targets: ["i"],
        reads: ["C_prev", "a_i", "p_i"],
        run: function (v) {
          v.i = sigmoid(v.C_prev*v.p_i + v.a_i);
        },
      },
      {
        kind: "value",
        targets: ["C_tilde"],
        reads: ["a_C"],
        run: function (v) {
          v.C_tilde = Math.tanh(v.a_C);
        },
      },
      {
        kind: "state",
        targets: ["C"],
        reads: ["C_prev", "C_tilde", "f", "i"],
        run: function (v) {
          v.C = v.C_prev*v.f + v.C_tilde*v.i;
        },
      },
      {
        kind: "state",
        targets: ["h"],
        reads: ["C"],
        run: function (v) {
          v.h = Math.tanh(v.C);
        },
      },
    ],
    backward: function (v, seed) {
      const d = Object.create(null);
      const lin = Object.create(null);
      const grad = Object.create(null);
      d.h = seed.h;
      d.C = seed.C + d.h*(1 - Math.pow(v.h, 2));
      d.C_tilde = d.C*v.i;
      d.i = v.C_tilde*d.C;
      d.f = v.C_prev*d.C;
      d.a_f = d.f*v.f*(1 - v.f);
      d.a_i = d.i*v.i*(1 - v.i);
      d.a_C = d.C_tilde*(1 - Math.pow(v.C_tilde, 2));
      lin.h_prev__stack0 = v.W_f[0][0] * d.a_f + v.W_i[0][0] * d.a_i + v.W_C[0][0] * d.a_C;
      lin.x__stack0 = v.W_f[0][1] * d.a_f + v.W_i[0][1] * d.a_i + v.W_C[0][1] * d.a_C;
      d.p_f = v.C_prev*d.f*v.f*(1 - v.f);
      d.p_i = v.C_prev*d.i*v.i*(1 - v.i);
      d.h_prev = lin.h_prev__stack0;
      d.C_prev = d.C*v.f + d.f*v.f*v.p_f*(1 - v.f) + d.i*v.i*v.p_i*(1 - v.i);
      grad.W_f = [[d.a_f * v.h_prev, d.a_f * v.x]];
      grad.b_f = [d.a_f];
      grad.W_i = [[d.a_i * v.h_prev, d.a_i * v.x]];
      grad.b_i = [d.a_i];
      grad.W_C = [[d.a_C * v.h_prev, d.a_C * v.x]];
      grad.b_C = [d.a_C];
      grad.p_f = [d.p_f];
      grad.p_i = [d.p_i];
      grad.x = lin.x__stack0;
      grad.h_prev = d.h_prev;
      grad.C_prev = d.C_prev;
      return { adjoints: d, gradients: grad };
    },
    localDerivatives: [
      { of: "a_f", wrt: "h_prev", value: function (v) { return v.W_f[0][0]; } },
      { of: "a_f", wrt: "x", value: function (v) { return v.W_f[0][1]; } },
      { of: "a_i", wrt: "h_prev", value: function (v) { return v.W_i[0][0]; } },
      { of: "a_i", wrt: "x", value: function (v) { return v.W_i[0][1]; } },
      { of: "a_C", wrt: "h_prev", value: function (v) { return v.W_C[0][0]; } },
      { of: "a_C", wrt: "x", value: function (v) { return v.W_C[0][1]; } },
      { of: "f", wrt: "C_prev", value: function (v) { return v.f*v.p_f*(1 - v.f); } },
      { of: "f", wrt: "a_f", value: function (v) { return v.f*(1 - v.f); } },
      { of: "f", wrt: "p_f", value: function (v) { return v.C_prev*v.f*(1 - v.f); } },
      { of: "i", wrt: "C_prev", value: function (v) { return v.i*v.p_i*(1 - v.i); } },
      { of: "i", wrt: "a_i", value: function (v) { return v.i*(1 - v.i); } },
      { of: "i", wrt: "p_i", value: function (v) { return v.C_prev*v.i*(1 - v.i); } },
      { of: "C_tilde", wrt: "a_C", value: function (v) { return 1 - Math.pow(v.C_tilde, 2); } },
      { of: "C", wrt: "C_prev", value: function (v) { return v.f; } },
      { of: "C", wrt: "C_tilde", value: function (v) { return v.i; } },
      { of: "C", wrt: "f", value: function (v) { return v.C_prev; } },
      { of: "C", wrt: "i", value: function (v) { return v.C_tilde; } },
      { of: "h", wrt: "C", value: function (v) { return 1 - Math.pow(v.h, 2); } },
    ],
  };

  // Generated from lstm_sym/spec/cells/lstm_niaf.cell by `lstm-sym regenerate` — do not edit.
  cells["lstm_niaf"] = {
    name: "lstm_niaf",
    title: "Peephole LSTM without input activation function (NIAF)",
    summary: "Greff et al.'s NIAF variant of the peephole LSTM: the candidate is not squashed by tanh, so the cell can be written with values of any size.",
    input: "x",
    states: ["h", "C"],
    output: "h",
    parameters: {"W_f": [1, 2], "b_f": [1], "W_i": [1, 2], "b_i": [1], "W_C": [1, 2], "b_C": [1], "W_o": [1, 2], "b_o": [1], "p_f": [1], "p_i": [1], "p_o": [1]},
    linearMaps: [{"target": "a_f", "weight": "W_f", "bias": "b_f", "operands": ["h_prev", "x"]}, {"target": "a_i", "weight": "W_i", "bias": "b_i", "operands": ["h_prev", "x"]}, {"target": "C_tilde", "weight": "W_C", "bias": "b_C", "operands": ["h_prev", "x"]}, {"target": "a_o", "weight": "W_o", "bias": "b_o", "operands": ["h_prev", "x"]}],
    roles: {"x": "input", "h": "state", "C": "state", "W_f": "param", "b_f": "param", "W_i": "param", "b_i": "param", "W_C": "param", "b_C": "param", "W_o": "param", "b_o": "param", "p_f": "param", "p_i": "param", "p_o": "param", "a_f": "value", "f": "value", "a_i": "value", "i": "value", "C_tilde": "value", "a_o": "value", "o": "value", "tanh_C": "auxiliary"},
    docs: {"x": "input vector at step t", "h": "hidden state: what the cell reveals, the output of each step", "C": "cell state: the long-term memory passed from step to step", "W_f": "forget-gate weights", "b_f": "forget-gate bias", "W_i": "input-gate weights", "b_i": "input-gate bias", "W_C": "candidate (block input) weights", "b_C": "candidate (block input) bias", "W_o": "output-gate weights", "b_o": "output-gate bias", "p_f": "forget-gate peephole: diagonal weights on the previous cell state", "p_i": "input-gate peephole: diagonal weights on the previous cell state", "p_o": "output-gate peephole: diagonal weights on the new cell state", "a_f": "forget-gate pre-activation, before the peephole term", "f": "forget gate: whether to erase the cell (0 erase, 1 keep)", "a_i": "input-gate pre-activation, before the peephole term", "i": "input gate: whether to write to the cell", "C_tilde": "candidate (block input) without activation: what to write, unbounded", "a_o": "output-gate pre-activation, before the peephole term", "o": "output gate: how much of the cell to reveal", "tanh_C": "cached value tanh(C)"},
    values: ["a_f", "a_i", "C_tilde", "a_o", "f", "i", "C", "o", "tanh_C", "h"],
    gates: ["f", "i", "o"],
    forward: [
      {
        kind: "linear",
        targets: ["a_f", "a_i", "C_tilde", "a_o"],
        reads: ["h_prev", "x", "W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o"],
        run: function (v) {
          v.a_f = v.W_f[0][0] * v.h_prev + v.W_f[0][1] * v.x + v.b_f[0];
          v.a_i = v.W_i[0][0] * v.h_prev + v.W_i[0][1] * v.x + v.b_i[0];
          v.C_tilde = v.W_C[0][0] * v.h_prev + v.W_C[0][1] * v.x + v.b_C[0];
          v.a_o = v.W_o[0][0] * v.h_prev + v.W_o[0][1] * v.x + v.b_o[0];
        },
      },
      {
        kind: "value",
        targets: ["f"],
        reads: ["C_prev", "a_f", "p_f"],
        run: function (v) {
          v.f = sigmoid(v.C_prev*v.p_f + v.a_f);
        },
      },
      {
        kind: "value",
        targets: ["i"],
        reads: ["C_prev", "a_i", "p_i"],
        run: function (v) {
          v.i = sigmoid(v.C_prev*v.p_i + v.a_i);
        },
      },
      {
        kind: "state",
        targets: ["C"],
        reads: ["C_prev", "C_tilde", "f", "i"],
        run: function (v) {
          v.C = v.C_prev*v.f + v.C_tilde*v.i;
        },
      },
      {
        kind: "value",
        targets: ["o"],
        reads: ["C", "a_o", "p_o"],
        run: function (v) {
          v.o = sigmoid(v.C*v.p_o + v.a_o);
        },
      },
      {
        kind: "auxiliary",
        targets: ["tanh_C"],
        reads: ["C"],
        run: function (v) {
          v.tanh_C = Math.tanh(v.C);
        },
      },
      {
        kind: "state",
        targets: ["h"],
        reads: ["o", "tanh_C"],
        run: function (v) {
          v.h = v.o*v.tanh_C;
        },
      },
    ],
    backward: function (v, seed) {
      const d = Object.create(null);
      const lin = Object.create(null);
      const grad = Object.create(null);
      d.h = seed.h;
      d.o = d.h*v.tanh_C;
      d.C = seed.C + d.h*v.o*(1 - Math.pow(v.tanh_C, 2)) + d.o*v.o*v.p_o*(1 - v.o);
      d.i = v.C_tilde*d.C;
      d.f = v.C_prev*d.C;
      d.a_f = d.f*v.f*(1 - v.f);
      d.a_i = d.i*v.i*(1 - v.i);
      d.C_tilde = d.C*v.i;
      d.a_o = d.o*v.o*(1 - v.o);
      lin.h_prev__stack0 = v.W_f[0][0] * d.a_f + v.W_i[0][0] * d.a_i + v.W_C[0][0] * d.C_tilde + v.W_o[0][0] * d.a_o;
      lin.x__stack0 = v.W_f[0][1] * d.a_f + v.W_i[0][1] * d.a_i + v.W_C[0][1] * d.C_tilde + v.W_o[0][1] * d.a_o;
      d.p_f = v.C_prev*d.f*v.f*(1 - v.f);
      d.p_i = v.C_prev*d.i*v.i*(1 - v.i);
      d.p_o = v.C*d.o*v.o*(1 - v.o);
      d.h_prev = lin.h_prev__stack0;
      d.C_prev = d.C*v.f + d.f*v.f*v.p_f*(1 - v.f) + d.i*v.i*v.p_i*(1 - v.i);
      grad.W_f = [[d.a_f * v.h_prev, d.a_f * v.x]];
      grad.b_f = [d.a_f];
      grad.W_i = [[d.a_i * v.h_prev, d.a_i * v.x]];
      grad.b_i = [d.a_i];
      grad.W_C = [[d.C_tilde * v.h_prev, d.C_tilde * v.x]];
      grad.b_C = [d.C_tilde];
      grad.W_o = [[d.a_o * v.h_prev, d.a_o * v.x]];
      grad.b_o = [d.a_o];
      grad.p_f = [d.p_f];
      grad.p_i = [d.p_i];
      grad.p_o = [d.p_o];
      grad.x = lin.x__stack0;
      grad.h_prev = d.h_prev;
      grad.C_prev = d.C_prev;
      return { adjoints: d, gradients: grad };
    },
    localDerivatives: [
      { of: "a_f", wrt: "h_prev", value: function (v) { return v.W_f[0][0]; } },
      { of: "a_f", wrt: "x", value: function (v) { return v.W_f[0][1]; } },
      { of: "a_i", wrt: "h_prev", value: function (v) { return v.W_i[0][0]; } },
      { of: "a_i", wrt: "x", value: function (v) { return v.W_i[0][1]; } },
      { of: "C_tilde", wrt: "h_prev", value: function (v) { return v.W_C[0][0]; } },
      { of: "C_tilde", wrt: "x", value: function (v) { return v.W_C[0][1]; } },
      { of: "a_o", wrt: "h_prev", value: function (v) { return v.W_o[0][0]; } },
      { of: "a_o", wrt: "x", value: function (v) { return v.W_o[0][1]; } },
      { of: "f", wrt: "C_prev", value: function (v) { return v.f*v.p_f*(1 - v.f); } },
      { of: "f", wrt: "a_f", value: function (v) { return v.f*(1 - v.f); } },
      { of: "f", wrt: "p_f", value: function (v) { return v.C_prev*v.f*(1 - v.f); } },
      { of: "i", wrt: "C_prev", value: function (v) { return v.i*v.p_i*(1 - v.i); } },
      { of: "i", wrt: "a_i", value: function (v) { return v.i*(1 - v.i); } },
      { of: "i", wrt: "p_i", value: function (v) { return v.C_prev*v.i*(1 - v.i); } },
      { of: "C", wrt: "C_prev", value: function (v) { return v.f; } },
      { of: "C", wrt: "C_tilde", value: function (v) { return v.i; } },
      { of: "C", wrt: "f", value: function (v) { return v.C_prev; } },
      { of: "C", wrt: "i", value: function (v) { return v.C_tilde; } },
      { of: "o", wrt: "C", value: function (v) { return v.o*v.p_o*(1 - v.o); } },
      { of: "o", wrt: "a_o", value: function (v) { return v.o*(1 - v.o); } },
      { of: "o", wrt: "p_o", value: function (v) { return v.C*v.o*(1 - v.o); } },
      { of: "h", wrt: "C", value: function (v) { return v.o*(1 - Math.pow(v.tanh_C, 2)); } },
      { of: "h", wrt: "o", value: function (v) { return v.tanh_C; } },
    ],
  };

  // Generated from lstm_sym/spec/cells/lstm_noaf.cell by `lstm-sym regenerate` — do not edit.
  cells["lstm_noaf"] = {
    name: "lstm_noaf",
    title: "Peephole LSTM without output activation function (NOAF)",
    summary: "Greff et al.'s NOAF variant of the peephole LSTM: the cell state is revealed without the tanh squashing, so the hidden state is unbounded.",
    input: "x",
    states: ["h", "C"],
    output: "h",
    parameters: {"W_f": [1, 2], "b_f": [1], "W_i": [1, 2], "b_i": [1], "W_C": [1, 2], "b_C": [1], "W_o": [1, 2], "b_o": [1], "p_f": [1], "p_i": [1], "p_o": [1]},
    linearMaps: [{"target": "a_f", "weight": "W_f", "bias": "b_f", "operands": ["h_prev", "x"]}, {"target": "a_i", "weight": "W_i", "bias": "b_i", "operands": ["h_prev", "x"]}, {"target": "a_C", "weight": "W_C", "bias": "b_C", "operands": ["h_prev", "x"]}, {"target": "a_o", "weight": "W_o", "bias": "b_o", "operands": ["h_prev", "x"]}],
    roles: {"x": "input", "h": "state", "C": "state", "W_f": "param", "b_f": "param", "W_i": "param", "b_i": "param", "W_C": "param", "b_C": "param", "W_o": "param", "b_o": "param", "p_f": "param", "p_i": "param", "p_o": "param", "a_f": "value", "f": "value", "a_i": "value", "i": "value", "a_C": "value", "C_tilde": "value", "a_o": "value", "o": "value"},
    docs: {"x": "input vector at step t", "h": "hidden state: what the cell reveals, the output of each step", "C": "cell state: the long-term memory passed from step to step", "W_f": "forget-gate weights", "b_f": "forget-gate bias", "W_i": "input-gate weights", "b_i": "input-gate bias", "W_C": "candidate (block input) weights", "b_C": "candidate (block input) bias", "W_o": "output-gate weights", "b_o": "output-gate bias", "p_f": "forget-gate peephole: diagonal weights on the previous cell state", "p_i": "input-gate peephole: diagonal weights on the previous cell state", "p_o": "output-gate peephole: diagonal weights on the new cell state", "a_f": "forget-gate pre-activation, before the peephole term", "f": "forget gate: whether to erase the cell (0 erase, 1 keep)", "a_i": "input-gate pre-activation, before the peephole term", "i": "input gate: whether to write to the cell", "a_C": "candidate pre-activation", "C_tilde": "candidate (block input): what to write, in (-1, 1)", "a_o": "output-gate pre-activation, before the peephole term", "o": "output gate: how much of the cell to reveal"},
    values: ["a_f", "a_i", "a_C", "a_o", "f", "i", "C_tilde", "C", "o", "h"],
    gates: ["f", "i", "o"],
    forward: [
      {
        kind: "linear",
        targets: ["a_f", "a_i", "a_C", "a_o"],
        reads: ["h_prev", "x", "W_f", "b_f", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o"],
        run: function (v) {
          v.a_f = v.W_f[0][0] * v.h_prev + v.W_f[0][1] * v.x + v.b_f[0];
          v.a_i = v.W_i[0][0] * v.h_prev + v.W_i[0][1] * v.x + v.b_i[0];
          v.a_C = v.W_C[0][0] * v.h_prev + v.W_C[0][1] * v.x + v.b_C[0];
          v.a_o = v.W_o[0][0] * v.h_prev + v.W_o[0][1] * v.x + v.b_o[0];
        },
      },
      {
        kind: "value",
        targets: ["f"],
        reads: ["C_prev", "a_f", "p_f"],
        run: function (v) {
          v.f = sigmoid(v.C_prev*v.p_f + v.a_f);
        },
      },
      {
        kind: "value",
        targets: ["i"],
        reads: ["C_prev", "a_i", "p_i"],
        run: function (v) {
          v.i = sigmoid(v.C_prev*v.p_i + v.a_i);
        },
      },
      {
        kind: "value",
        targets: ["C_tilde"],
        reads: ["a_C"],
        run: function (v) {
          v.C_tilde = Math.tanh(v.a_C);
        },
      },
      {
        kind: "state",
        targets: ["C"],
        reads: ["C_prev", "C_tilde", "f", "i"],
        run: function (v) {
          v.C = v.C_prev*v.f + v.C_tilde*v.i;
        },
      },
      {
        kind: "value",
        targets: ["o"],
        reads: ["C", "a_o", "p_o"],
        run: function (v) {
          v.o = sigmoid(v.C*v.p_o + v.a_o);
        },
      },
      {
        kind: "state",
        targets: ["h"],
        reads: ["C", "o"],
        run: function (v) {
          v.h = v.C*v.o;
        },
      },
    ],
    backward: function (v, seed) {
      const d = Object.create(null);
      const lin = Object.create(null);
      const grad = Object.create(null);
      d.h = seed.h;
      d.o = v.C*d.h;
      d.C = seed.C + d.h*v.o + d.o*v.o*v.p_o*(1 - v.o);
      d.C_tilde = d.C*v.i;
      d.i = v.C_tilde*d.C;
      d.f = v.C_prev*d.C;
      d.a_f = d.f*v.f*(1 - v.f);
      d.a_i = d.i*v.i*(1 - v.i);
      d.a_C = d.C_tilde*(1 - Math.pow(v.C_tilde, 2));
      d.a_o = d.o*v.o*(1 - v.o);
      lin.h_prev__stack0 = v.W_f[0][0] * d.a_f + v.W_i[0][0] * d.a_i + v.W_C[0][0] * d.a_C + v.W_o[0][0] * d.a_o;
      lin.x__stack0 = v.W_f[0][1] * d.a_f + v.W_i[0][1] * d.a_i + v.W_C[0][1] * d.a_C + v.W_o[0][1] * d.a_o;
      d.p_f = v.C_prev*d.f*v.f*(1 - v.f);
      d.p_i = v.C_prev*d.i*v.i*(1 - v.i);
      d.p_o = v.C*d.o*v.o*(1 - v.o);
      d.h_prev = lin.h_prev__stack0;
      d.C_prev = d.C*v.f + d.f*v.f*v.p_f*(1 - v.f) + d.i*v.i*v.p_i*(1 - v.i);
      grad.W_f = [[d.a_f * v.h_prev, d.a_f * v.x]];
      grad.b_f = [d.a_f];
      grad.W_i = [[d.a_i * v.h_prev, d.a_i * v.x]];
      grad.b_i = [d.a_i];
      grad.W_C = [[d.a_C * v.h_prev, d.a_C * v.x]];
      grad.b_C = [d.a_C];
      grad.W_o = [[d.a_o * v.h_prev, d.a_o * v.x]];
      grad.b_o = [d.a_o];
      grad.p_f = [d.p_f];
      grad.p_i = [d.p_i];
      grad.p_o = [d.p_o];
      grad.x = lin.x__stack0;
      grad.h_prev = d.h_prev;
      grad.C_prev = d.C_prev;
      return { adjoints: d, gradients: grad };
    },
    localDerivatives: [
      { of: "a_f", wrt: "h_prev", value: function (v) { return v.W_f[0][0]; } },
      { of: "a_f", wrt: "x", value: function (v) { return v.W_f[0][1]; } },
      { of: "a_i", wrt: "h_prev", value: function (v) { return v.W_i[0][0]; } },
      { of: "a_i", wrt: "x", value: function (v) { return v.W_i[0][1]; } },
      { of: "a_C", wrt: "h_prev", value: function (v) { return v.W_C[0][0]; } },
      { of: "a_C", wrt: "x", value: function (v) { return v.W_C[0][1]; } },
      { of: "a_o", wrt: "h_prev", value: function (v) { return v.W_o[0][0]; } },
      { of: "a_o", wrt: "x", value: function (v) { return v.W_o[0][1]; } },
      { of: "f", wrt: "C_prev", value: function (v) { return v.f*v.p_f*(1 - v.f); } },
      { of: "f", wrt: "a_f", value: function (v) { return v.f*(1 - v.f); } },
      { of: "f", wrt: "p_f", value: function (v) { return v.C_prev*v.f*(1 - v.f); } },
      { of: "i", wrt: "C_prev", value: function (v) { return v.i*v.p_i*(1 - v.i); } },
      { of: "i", wrt: "a_i", value: function (v) { return v.i*(1 - v.i); } },
      { of: "i", wrt: "p_i", value: function (v) { return v.C_prev*v.i*(1 - v.i); } },
      { of: "C_tilde", wrt: "a_C", value: function (v) { return 1 - Math.pow(v.C_tilde, 2); } },
      { of: "C", wrt: "C_prev", value: function (v) { return v.f; } },
      { of: "C", wrt: "C_tilde", value: function (v) { return v.i; } },
      { of: "C", wrt: "f", value: function (v) { return v.C_prev; } },
      { of: "C", wrt: "i", value: function (v) { return v.C_tilde; } },
      { of: "o", wrt: "C", value: function (v) { return v.o*v.p_o*(1 - v.o); } },
      { of: "o", wrt: "a_o", value: function (v) { return v.o*(1 - v.o); } },
      { of: "o", wrt: "p_o", value: function (v) { return v.C*v.o*(1 - v.o); } },
      { of: "h", wrt: "C", value: function (v) { return v.o; } },
      { of: "h", wrt: "o", value: function (v) { return v.C; } },
    ],
  };

  // Generated from lstm_sym/spec/cells/lstm_cifg.cell by `lstm-sym regenerate` — do not edit.
  cells["lstm_cifg"] = {
    name: "lstm_cifg",
    title: "Peephole LSTM with coupled input and forget gate (CIFG)",
    summary: "Greff et al.'s CIFG variant of the peephole LSTM: one gate decides both what to write and what to erase, f = 1 - i, as in the GRU. Removes a quarter of the weights at almost no cost in accuracy.",
    input: "x",
    states: ["h", "C"],
    output: "h",
    parameters: {"W_i": [1, 2], "b_i": [1], "W_C": [1, 2], "b_C": [1], "W_o": [1, 2], "b_o": [1], "p_i": [1], "p_o": [1]},
    linearMaps: [{"target": "a_i", "weight": "W_i", "bias": "b_i", "operands": ["h_prev", "x"]}, {"target": "a_C", "weight": "W_C", "bias": "b_C", "operands": ["h_prev", "x"]}, {"target": "a_o", "weight": "W_o", "bias": "b_o", "operands": ["h_prev", "x"]}],
    roles: {"x": "input", "h": "state", "C": "state", "W_i": "param", "b_i": "param", "W_C": "param", "b_C": "param", "W_o": "param", "b_o": "param", "p_i": "param", "p_o": "param", "f": "value", "a_i": "value", "i": "value", "a_C": "value", "C_tilde": "value", "a_o": "value", "o": "value", "tanh_C": "auxiliary"},
    docs: {"x": "input vector at step t", "h": "hidden state: what the cell reveals, the output of each step", "C": "cell state: the long-term memory passed from step to step", "W_i": "input-gate weights", "b_i": "input-gate bias", "W_C": "candidate (block input) weights", "b_C": "candidate (block input) bias", "W_o": "output-gate weights", "b_o": "output-gate bias", "p_i": "input-gate peephole: diagonal weights on the previous cell state", "p_o": "output-gate peephole: diagonal weights on the new cell state", "f": "forget gate, coupled to the input gate: f = 1 - i", "a_i": "input-gate pre-activation, before the peephole term", "i": "input gate: whether to write to the cell", "a_C": "candidate pre-activation", "C_tilde": "candidate (block input): what to write, in (-1, 1)", "a_o": "output-gate pre-activation, before the peephole term", "o": "output gate: how much of the cell to reveal", "tanh_C": "cached value tanh(C)"},
    values: ["a_i", "a_C", "a_o", "i", "f", "C_tilde", "C", "o", "tanh_C", "h"],
    gates: ["i", "o"],
    forward: [
      {
        kind: "linear",
        targets: ["a_i", "a_C", "a_o"],
        reads: ["h_prev", "x", "W_i", "b_i", "W_C", "b_C", "W_o", "b_o"],
        run: function (v) {
          v.a_i = v.W_i[0][0] * v.h_prev + v.W_i[0][1] * v.x + v.b_i[0];
          v.a_C = v.W_C[0][0] * v.h_prev + v.W_C[0][1] * v.x + v.b_C[0];
          v.a_o = v.W_o[0][0] * v.h_prev + v.W_o[0][1] * v.x + v.b_o[0];
        },
      },
      {
        kind: "value",
        targets: ["i"],
        reads: ["C_prev", "a_i", "p_i"],
        run: function (v) {
          v.i = sigmoid(v.C_prev*v.p_i + v.a_i);
        },
      },
      {
        kind: "value",
        targets: ["f"],
        reads: ["i"],
        run: function (v) {
          v.f = 1 - v.i;
        },
      },
      {
        kind: "value",
        targets: ["C_tilde"],
        reads: ["a_C"],
        run: function (v) {
          v.C_tilde = Math.tanh(v.a_C);
        },
      },
      {
        kind: "state",
        targets: ["C"],
        reads: ["C_prev", "C_tilde", "f", "i"],
        run: function (v) {
          v.C = v.C_prev*v.f + v.C_tilde*v.i;
        },
      },
      {
        kind: "value",
        targets: ["o"],
        reads: ["C", "a_o", "p_o"],
        run: function (v) {
          v.o = sigmoid(v.C*v.p_o + v.a_o);
        },
      },
      {
        kind: "auxiliary",
        targets: ["tanh_C"],
        reads: ["C"],
        run: function (v) {
          v.tanh_C = Math.tanh(v.C);
        },
      },
      {
        kind: "state",
        targets: ["h"],
        reads: ["o", "tanh_C"],
        run: function (v) {
          v.h = v.o*v.tanh_C;
        },
      },
    ],
    backward: function (v, seed) {
      const d = Object.create(null);
      const lin = Object.create(null);
      const grad = Object.create(null);
      d.h = seed.h;
      d.o = d.h*v.tanh_C;
      d.C = seed.C + d.h*v.o*(1 - Math.pow(v.tanh_C, 2)) + d.o*v.o*v.p_o*(1 - v.o);
      d.C_tilde = d.C*v.i;
      d.f = v.C_prev*d.C;
      d.i = v.C_tilde*d.C - d.f;
      d.a_i = d.i*v.i*(1 - v.i);
      d.a_C = d.C_tilde*(1 - Math.pow(v.C_tilde, 2));
      d.a_o = d.o*v.o*(1 - v.o);
      lin.h_prev__stack0 = v.W_i[0][0] * d.a_i + v.W_C[0][0] * d.a_C + v.W_o[0][0] * d.a_o;
      lin.x__stack0 = v.W_i[0][1] * d.a_i + v.W_C[0][1] * d.a_C + v.W_o[0][1] * d.a_o;
      d.p_i = v.C_prev*d.i*v.i*(1 - v.i);
      d.p_o = v.C*d.o*v.o*(1 - v.o);
      d.h_prev = lin.h_prev__stack0;
      d.C_prev = d.C*v.f + d.i*v.i*v.p_i*(1 - v.i);
      grad.W_i = [[d.a_i * v.h_prev, d.a_i * v.x]];
      grad.b_i = [d.a_i];
      grad.W_C = [[d.a_C * v.h_prev, d.a_C * v.x]];
      grad.b_C = [d.a_C];
      grad.W_o = [[d.a_o * v.h_prev, d.a_o * v.x]];
      grad.b_o = [d.a_o];
      grad.p_i = [d.p_i];
      grad.p_o = [d.p_o];
      grad.x = lin.x__stack0;
      grad.h_prev = d.h_prev;
      grad.C_prev = d.C_prev;
      return { adjoints: d, gradients: grad };
    },
    localDerivatives: [
      { of: "a_i", wrt: "h_prev", value: function (v) { return v.W_i[0][0]; } },
      { of: "a_i", wrt: "x", value: function (v) { return v.W_i[0][1]; } },
      { of: "a_C", wrt: "h_prev", value: function (v) { return v.W_C[0][0]; } },
      { of: "a_C", wrt: "x", value: function (v) { return v.W_C[0][1]; } },
      { of: "a_o", wrt: "h_prev", value: function (v) { return v.W_o[0][0]; } },
      { of: "a_o", wrt: "x", value: function (v) { return v.W_o[0][1]; } },
      { of: "i", wrt: "C_prev", value: function (v) { return v.i*v.p_i*(1 - v.i); } },
      { of: "i", wrt: "a_i", value: function (v) { return v.i*(1 - v.i); } },
      { of: "i", wrt: "p_i", value: function (v) { return v.C_prev*v.i*(1 - v.i); } },
      { of: "f", wrt: "i", value: function (v) { return -1; } },
      { of: "C_tilde", wrt: "a_C", value: function (v) { return 1 - Math.pow(v.C_tilde, 2); } },
      { of: "C", wrt: "C_prev", value: function (v) { return v.f; } },
      { of: "C", wrt: "C_tilde", value: function (v) { return v.i; } },
      { of: "C", wrt: "f", value: function (v) { return v.C_prev; } },
      { of: "C", wrt: "i", value: function (v) { return v.C_tilde; } },
      { of: "o", wrt: "C", value: function (v) { return v.o*v.p_o*(1 - v.o); } },
      { of: "o", wrt: "a_o", value: function (v) { return v.o*(1 - v.o); } },
      { of: "o", wrt: "p_o", value: function (v) { return v.C*v.o*(1 - v.o); } },
      { of: "h", wrt: "C", value: function (v) { return v.o*(1 - Math.pow(v.tanh_C, 2)); } },
      { of: "h", wrt: "o", value: function (v) { return v.tanh_C; } },
    ],
  };

  // Generated from lstm_sym/spec/cells/lstm_fgr.cell by `lstm-sym regenerate` — do not edit.
  cells["lstm_fgr"] = {
    name: "lstm_fgr",
    title: "Peephole LSTM with full gate recurrence (FGR)",
    summary: "Greff et al.'s FGR variant of the peephole LSTM: every gate also sees the three gates of the previous step through its own recurrent weights, so the gates become part of the state carried through time.",
    input: "x",
    states: ["h", "C", "i", "f", "o"],
    output: "h",
    parameters: {"W_f": [1, 5], "b_f": [1], "W_i": [1, 5], "b_i": [1], "W_C": [1, 2], "b_C": [1], "W_o": [1, 5], "b_o": [1], "p_f": [1], "p_i": [1], "p_o": [1]},
    linearMaps: [{"target": "a_f", "weight": "W_f", "bias": "b_f", "operands": ["h_prev", "x", "i_prev", "f_prev", "o_prev"]}, {"target": "a_i", "weight": "W_i", "bias": "b_i", "operands": ["h_prev", "x", "i_prev", "f_prev", "o_prev"]}, {"target": "a_C", "weight": "W_C", "bias": "b_C", "operands": ["h_prev", "x"]}, {"target": "a_o", "weight": "W_o", "bias": "b_o", "operands": ["h_prev", "x", "i_prev", "f_prev", "o_prev"]}],
    roles: {"x": "input", "h": "state", "C": "state", "i": "state", "f": "state", "o": "state", "W_f": "param", "b_f": "param", "W_i": "param", "b_i": "param", "W_C": "param", "b_C": "param", "W_o": "param", "b_o": "param", "p_f": "param", "p_i": "param", "p_o": "param", "a_f": "value", "a_i": "value", "a_C": "value", "C_tilde": "value", "a_o": "value", "tanh_C": "auxiliary"},
    docs: {"x": "input vector at step t", "h": "hidden state: what the cell reveals, the output of each step", "C": "cell state: the long-term memory passed from step to step", "i": "input gate: whether to write to the cell (carried to the next step's gates)", "f": "forget gate: whether to erase the cell (carried to the next step's gates)", "o": "output gate: how much of the cell to reveal (carried to the next step's gates)", "W_f": "forget-gate weights on [h, x, i, f, o] of the previous step and the input", "b_f": "forget-gate bias", "W_i": "input-gate weights on [h, x, i, f, o] of the previous step and the input", "b_i": "input-gate bias", "W_C": "candidate (block input) weights", "b_C": "candidate (block input) bias", "W_o": "output-gate weights on [h, x, i, f, o] of the previous step and the input", "b_o": "output-gate bias", "p_f": "forget-gate peephole: diagonal weights on the previous cell state", "p_i": "input-gate peephole: diagonal weights on the previous cell state", "p_o": "output-gate peephole: diagonal weights on the new cell state", "a_f": "forget-gate pre-activation, before the peephole term", "a_i": "input-gate pre-activation, before the peephole term", "a_C": "candidate pre-activation", "C_tilde": "candidate (block input): what to write, in (-1, 1)", "a_o": "output-gate pre-activation, before the peephole term", "tanh_C": "cached value tanh(C)"},
    values: ["a_f", "a_i", "a_o", "f", "i", "a_C", "C_tilde", "C", "o", "tanh_C", "h"],
    gates: ["f", "i", "o"],
    forward: [
      {
        kind: "linear",
        targets: ["a_f", "a_i", "a_o"],
        reads: ["h_prev", "x", "i_prev", "f_prev", "o_prev", "W_f", "b_f", "W_i", "b_i", "W_o", "b_o"],
        run: function (v) {
          v.a_f = v.W_f[0][0] * v.h_prev + v.W_f[0][1] * v.x + v.W_f[0][2] * v.i_prev + v.W_f[0][3] * v.f_prev + v.W_f[0][4] * v.o_prev + v.b_f[0];
          v.a_i = v.W_i[0][0] * v.h_prev + v.W_i[0][1] * v.x + v.W_i[0][2] * v.i_prev + v.W_i[0][3] * v.f_prev + v.W_i[0][4] * v.o_prev + v.b_i[0];
          v.a_o = v.W_o[0][0] * v.h_prev + v.W_o[0][1] * v.x + v.W_o[0][2] * v.i_prev + v.W_o[0][3] * v.f_prev + v.W_o[0][4] * v.o_prev + v.b_o[0];
        },
      },
      {
        kind: "state",
        targets: ["f"],
        reads: ["C_prev", "a_f", "p_f"],
        run: function (v) {
          v.f = sigmoid(v.C_prev*v.p_f + v.a_f);
        },
      },
      {
        kind: "state",
        targets: ["i"],
        reads: ["C_prev", "a_i", "p_i"],
        run: function (v) {
          v.i = sigmoid(v.C_prev*v.p_i + v.a_i);
        },
      },
      {
        kind: "linear",
        targets: ["a_C"],
        reads: ["h_prev", "x", "W_C", "b_C"],
        run: function (v) {
          v.a_C = v.W_C[0][0] * v.h_prev + v.W_C[0][1] * v.x + v.b_C[0];
        },
      },
      {
        kind: "value",
        targets: ["C_tilde"],
        reads: ["a_C"],
        run: function (v) {
          v.C_tilde = Math.tanh(v.a_C);
        },
      },
      {
        kind: "state",
        targets: ["C"],
        reads: ["C_prev", "C_tilde", "f", "i"],
        run: function (v) {
          v.C = v.C_prev*v.f + v.C_tilde*v.i;
        },
      },
      {
        kind: "state",
        targets: ["o"],
        reads: ["C", "a_o", "p_o"],
        run: function (v) {
          v.o = sigmoid(v.C*v.p_o + v.a_o);
        },
      },
      {
        kind: "auxiliary",
        targets: ["tanh_C"],
        reads: ["C"],
        run: function (v) {
          v.tanh_C = Math.tanh(v.C);
        },
      },
      {
        kind: "state",
        targets: ["h"],
        reads: ["o", "tanh_C"],
        run: function (v) {
          v.h = v.o*v.tanh_C;
        },
      },
    ],
    backward: function (v, seed) {
      const d = Object.create(null);
      const lin = Object.create(null);
      const grad = Object.create(null);
      d.h = seed.h;
      d.o = d.h*v.tanh_C + seed.o;
      d.C = seed.C + d.h*v.o*(1 - Math.pow(v.tanh_C, 2)) + d.o*v.o*v.p_o*(1 - v.o);
      d.C_tilde = d.C*v.i;
      d.a_C = d.C_tilde*(1 - Math.pow(v.C_tilde, 2));
      lin.h_prev__stack1 = v.W_C[0][0] * d.a_C;
      lin.x__stack1 = v.W_C[0][1] * d.a_C;
      d.i = v.C_tilde*d.C + seed.i;
      d.f = v.C_prev*d.C + seed.f;
      d.a_f = d.f*v.f*(1 - v.f);
      d.a_i = d.i*v.i*(1 - v.i);
      d.a_o = d.o*v.o*(1 - v.o);
      lin.h_prev__stack0 = v.W_f[0][0] * d.a_f + v.W_i[0][0] * d.a_i + v.W_o[0][0] * d.a_o;
      lin.x__stack0 = v.W_f[0][1] * d.a_f + v.W_i[0][1] * d.a_i + v.W_o[0][1] * d.a_o;
      lin.i_prev__stack0 = v.W_f[0][2] * d.a_f + v.W_i[0][2] * d.a_i + v.W_o[0][2] * d.a_o;
      lin.f_prev__stack0 = v.W_f[0][3] * d.a_f + v.W_i[0][3] * d.a_i + v.W_o[0][3] * d.a_o;
      lin.o_prev__stack0 = v.W_f[0][4] * d.a_f + v.W_i[0][4] * d.a_i + v.W_o[0][4] * d.a_o;
      d.p_f = v.C_prev*d.f*v.f*(1 - v.f);
      d.p_i = v.C_prev*d.i*v.i*(1 - v.i);
      d.p_o = v.C*d.o*v.o*(1 - v.o);
      d.h_prev = lin.h_prev__stack0 + lin.h_prev__stack1;
      d.C_prev = d.C*v.f + d.f*v.f*v.p_f*(1 - v.f) + d.i*v.i*v.p_i*(1 - v.i);
      d.i_prev = lin.i_prev__stack0;
      d.f_prev = lin.f_prev__stack0;
      d.o_prev = lin.o_prev__stack0;
      grad.W_f = [[d.a_f * v.h_prev, d.a_f * v.x, d.a_f * v.i_prev, d.a_f * v.f_prev, d.a_f * v.o_prev]];
      grad.b_f = [d.a_f];
      grad.W_i = [[d.a_i * v.h_prev, d.a_i * v.x, d.a_i * v.i_prev, d.a_i * v.f_prev, d.a_i * v.o_prev]];
      grad.b_i = [d.a_i];
      grad.W_C = [[d.a_C * v.h_prev, d.a_C * v.x]];
      grad.b_C = [d.a_C];
      grad.W_o = [[d.a_o * v.h_prev, d.a_o * v.x, d.a_o * v.i_prev, d.a_o * v.f_prev, d.a_o * v.o_prev]];
      grad.b_o = [d.a_o];
      grad.p_f = [d.p_f];
      grad.p_i = [d.p_i];
      grad.p_o = [d.p_o];
      grad.x = lin.x__stack1 + lin.x__stack0;
      grad.h_prev = d.h_prev;
      grad.C_prev = d.C_prev;
      grad.i_prev = d.i_prev;
      grad.f_prev = d.f_prev;
      grad.o_prev = d.o_prev;
      return { adjoints: d, gradients: grad };
    },
    localDerivatives: [
      { of: "a_f", wrt: "h_prev", value: function (v) { return v.W_f[0][0]; } },
      { of: "a_f", wrt: "x", value: function (v) { return v.W_f[0][1]; } },
      { of: "a_f", wrt: "i_prev", value: function (v) { return v.W_f[0][2]; } },
      { of: "a_f", wrt: "f_prev", value: function (v) { return v.W_f[0][3]; } },
      { of: "a_f", wrt: "o_prev", value: function (v) { return v.W_f[0][4]; } },
      { of: "a_i", wrt: "h_prev", value: function (v) { return v.W_i[0][0]; } },
      { of: "a_i", wrt: "x", value: function (v) { return v.W_i[0][1]; } },
      { of: "a_i", wrt: "i_prev", value: function (v) { return v.W_i[0][2]; } },
      { of: "a_i", wrt: "f_prev", value: function (v) { return v.W_i[0][3]; } },
      { of: "a_i", wrt: "o_prev", value: function (v) { return v.W_i[0][4]; } },
      { of: "a_o", wrt: "h_prev", value: function (v) { return v.W_o[0][0]; } },
      { of: "a_o", wrt: "x", value: function (v) { return v.W_o[0][1]; } },
      { of: "a_o", wrt: "i_prev", value: function (v) { return v.W_o[0][2]; } },
      { of: "a_o", wrt: "f_prev", value: function (v) { return v.W_o[0][3]; } },
      { of: "a_o", wrt: "o_prev", value: function (v) { return v.W_o[0][4]; } },
      { of: "f", wrt: "C_prev", value: function (v) { return v.f*v.p_f*(1 - v.f); } },
      { of: "f", wrt: "a_f", value: function (v) { return v.f*(1 - v.f); } },
      { of: "f", wrt: "p_f", value: function (v) { return v.C_prev*v.f*(1 - v.f); } },
      { of: "i", wrt: "C_prev", value: function (v) { return v.i*v.p_i*(1 - v.i); } },
      { of: "i", wrt: "a_i", value: function (v) { return v.i*(1 - v.i); } },
      { of: "i", wrt: "p_i", value: function (v) { return v.C_prev*v.i*(1 - v.i); } },
      { of: "a_C", wrt: "h_prev", value: function (v) { return v.W_C[0][0]; } },
      { of: "a_C", wrt: "x", value: function (v) { return v.W_C[0][1]; } },
      { of: "C_tilde", wrt: "a_C", value: function (v) { return 1 - Math.pow(v.C_tilde, 2); } },
      { of: "C", wrt: "C_prev", value: function (v) { return v.f; } },
      { of: "C", wrt: "C_tilde", value: function (v) { return v.i; } },
      { of: "C", wrt: "f", value: function (v) { return v.C_prev; } },
      { of: "C", wrt: "i", value: function (v) { return v.C_tilde; } },
      { of: "o", wrt: "C", value: function (v) { return v.o*v.p_o*(1 - v.o); } },
      { of: "o", wrt: "a_o", value: function (v) { return v.o*(1 - v.o); } },
      { of: "o", wrt: "p_o", value: function (v) { return v.C*v.o*(1 - v.o); } },
      { of: "h", wrt: "C", value: function (v) { return v.o*(1 - Math.pow(v.tanh_C, 2)); } },
      { of: "h", wrt: "o", value: function (v) { return v.tanh_C; } },
    ],
  };
})((window.lstmSymCells = window.lstmSymCells || Object.create(null)));
