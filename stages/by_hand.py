"""SimpleRNN and LSTM forward passes in NumPy, from a Keras layer's own weights.

The book chapter rebuilds a Keras LSTM's output in a spreadsheet to show what the gates do;
this is that spreadsheet as code. Keras stores one `kernel` (inputs -> gates), one
`recurrent_kernel` (previous output -> gates) and one `bias`, with the four LSTM gates side by
side in the order i, f, c, o. Tests check these functions against Keras to 1e-5.
"""

from __future__ import annotations

import numpy as np


def sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))


def simple_rnn_forward(
    inputs: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray, return_sequences: bool = False
) -> np.ndarray:
    """h_t = tanh(x_t W + h_{t-1} U + b), from h_0 = 0. inputs: (batch, steps, features)."""
    output = np.zeros((inputs.shape[0], kernel.shape[1]))
    outputs = []
    for step in range(inputs.shape[1]):
        output = np.tanh(inputs[:, step] @ kernel + output @ recurrent_kernel + bias)
        outputs.append(output)
    return np.stack(outputs, axis=1) if return_sequences else output


def lstm_forward(
    inputs: np.ndarray, kernel: np.ndarray, recurrent_kernel: np.ndarray, bias: np.ndarray, return_sequences: bool = False
) -> np.ndarray:
    """Keras LSTM (tanh activation, sigmoid recurrent activation), from zero state.

    inputs: (batch, steps, features); returns the last output h_T, or every h_t.
    """
    units = recurrent_kernel.shape[0]
    output = np.zeros((inputs.shape[0], units))
    memory = np.zeros((inputs.shape[0], units))
    outputs = []
    for step in range(inputs.shape[1]):
        z = inputs[:, step] @ kernel + output @ recurrent_kernel + bias
        input_gate = sigmoid(z[:, :units])  # i: how much of the candidate to write into memory
        forget_gate = sigmoid(z[:, units : 2 * units])  # f: how much of the old memory to keep
        candidate = np.tanh(z[:, 2 * units : 3 * units])  # c~: the new content proposed for memory
        output_gate = sigmoid(z[:, 3 * units :])  # o: how much of the memory to show as output
        memory = forget_gate * memory + input_gate * candidate  # c_t = f * c_{t-1} + i * c~
        output = output_gate * np.tanh(memory)  # h_t = o * tanh(c_t)
        outputs.append(output)
    return np.stack(outputs, axis=1) if return_sequences else output
