"""The memory bound of one training batch.

Backpropagation through time keeps every step's activations until the
backward pass, so one batch of long sequences can ask for more memory than
the machine has (a Seq2Seq autoencoder on one 10,000-character string asked
for about 19 GB: its additive attention keeps a (source x target x hidden)
tensor). Each training batch's activation memory is estimated before its
forward pass and a batch above the bound is refused with an error that says
how to get under it or how to raise the bound.

The bound is ``SKRNN_MAX_BATCH_BYTES`` (environment variable, bytes; default
4 GiB), read at every check.
"""

import os

DEFAULT_MAX_BATCH_BYTES = 4 * 1024**3
# activation bytes kept per (sample, step, hidden unit) of one recurrent
# layer and direction for backpropagation; measured with
# ``resource.getrusage`` on the CPU: 66 (LSTM) and 108 (GRU), rounded up
RECURRENT_BYTES = 112
# per (sample, source step, target step): additive (Bahdanau) attention keeps
# a tanh output of ``hidden_size`` floats (4 B each, measured 4.7 B with the
# rest of the step); multiplicative (Luong) attention a few scores
ATTENTION_BYTES = {"bahdanau": 5, "luong": 16}


def max_batch_bytes():
    """The current bound in bytes (``SKRNN_MAX_BATCH_BYTES``, default 4 GiB)."""
    value = os.environ.get("SKRNN_MAX_BATCH_BYTES")
    if value is None:
        return DEFAULT_MAX_BATCH_BYTES
    try:
        return int(float(value))
    except ValueError:
        raise ValueError(
            f"SKRNN_MAX_BATCH_BYTES={value!r} is not a number of bytes."
        ) from None


def recurrent_bytes(n_samples, n_steps, hidden_size, num_layers, directions=1):
    """Activation bytes of a recurrent stack over one padded batch."""
    return RECURRENT_BYTES * n_samples * n_steps * hidden_size * num_layers * directions


def check_batch(nbytes, shape_text, remedies):
    """Refuse a training batch whose estimated activation memory ``nbytes``
    exceeds the bound."""
    bound = max_batch_bytes()
    if nbytes <= bound:
        return
    raise ValueError(
        f"Training on a batch of {shape_text} would keep about {nbytes / 2**30:.1f} GiB of "
        f"activations for backpropagation, above the bound of {bound / 2**30:.1f} GiB. "
        f"{remedies} or raise the bound with the environment variable "
        f"SKRNN_MAX_BATCH_BYTES (bytes)."
    )


def seq2seq_bytes(n_pairs, n_source, n_target, hidden_size, num_layers, directions, attention):
    """Activation memory of one teacher-forced encoder-decoder batch: the
    encoder, the decoder and the attention over every (source, target) step
    pair."""
    encoder = recurrent_bytes(n_pairs, n_source, hidden_size, num_layers, directions)
    decoder = recurrent_bytes(n_pairs, n_target, hidden_size, num_layers)
    per_pair = ATTENTION_BYTES.get(attention, 0)
    if attention == "bahdanau":
        per_pair *= hidden_size
    return encoder + decoder + per_pair * n_pairs * n_source * n_target
