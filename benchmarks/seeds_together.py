"""Can the seeds of an experiment train together on JAX, each getting what it gets trained alone?

    python benchmarks/seeds_together.py [--epochs 100] [--batch-sizes 1,6,7]

Issue 44 asked for seeds trained together "where it wins", each seed's figures identical to
training that seed alone. In a fresh process per setting (KERAS_BACKEND=jax, the stages' XLA pin),
three seeds of a small LSTM forecaster (`window`: airline-window's network, a window of 3 as
features into LSTM(4) and Dense(1); `stacked`: two LSTM(4) over 3 time steps and dropout 0.2;
Adam, MSE, shuffled batches, on fixed random data) are trained three ways: Keras's `fit()` one seed after the
other; one jitted step for all seeds with `jax.vmap` over their stacked weights and optimizer
states; the same with `jax.lax.map` (a loop inside one compiled step). Each seed gets the batch
order its own `fit()` draws. Printed per way: seconds of training for all seeds, and whether
every seed's weights and optimizer state are bit-identical to its `fit()`. Run twice: as the
stages run, and with oneDNN capped at AVX2 (`ONEDNN_MAX_CPU_ISA=AVX2`: what XLA's oneDNN calls
pick on a CPU without AVX-512, and what a process inherits from one that loaded TensorFlow here).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

TRAIN = """
import json, sys, time
import numpy as np
from stages import backend
backend.use("jax")
import jax
from stages.backend import keras, layers

epochs, batch_size, network, seeds = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], [1, 2, 3]
inputs = np.random.default_rng(0).random((96, 3, 1), dtype="float32")
targets = inputs.mean(axis=(1, 2))
NETWORKS = {
    "window": lambda: [layers.Reshape((1, 3)), layers.LSTM(4)],
    "stacked": lambda: [layers.LSTM(4, return_sequences=True), layers.LSTM(4), layers.Dropout(0.2)],
}

def build(seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((3, 1)), *NETWORKS[network](), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model

def state(model):
    parts = (model.trainable_variables, model.non_trainable_variables, model.optimizer.variables, model.metrics_variables)
    return [[variable.value for variable in part] for part in parts]

def numbers(model):
    return [np.asarray(v.value).tolist() for v in model.weights + model.optimizer.variables]

started = time.perf_counter()
alone = {}
for seed in seeds:
    model = build(seed)
    model.fit(inputs, targets, batch_size=batch_size, epochs=epochs, verbose=0)
    alone[seed] = numbers(model)
report = {"fit": {"seconds": time.perf_counter() - started, "identical": True}}

def all_seeds(step, way):
    if way == "vmap":
        return jax.jit(jax.vmap(step), donate_argnums=0)
    return jax.jit(lambda state, data: jax.lax.map(lambda one: step(*one), (state, data)), donate_argnums=0)

for way in ("vmap", "lax.map"):
    models, orders = {}, {}
    for seed in seeds:
        models[seed] = build(seed)
        models[seed]._symbolic_build(data_batch=(inputs[:batch_size], targets[:batch_size]))
        draws = [np.random.permutation(len(targets)) for _ in range(epochs + 1)]  # fit()'s first draw builds the model
        orders[seed] = np.stack(draws[1:])
    started = time.perf_counter()
    train_step = all_seeds(models[1].train_step, way)
    stacked = jax.tree.map(lambda *values: jax.numpy.stack(values), *[state(models[seed]) for seed in seeds])
    for epoch in range(epochs):
        order = np.stack([orders[seed][epoch] for seed in seeds])
        stacked = (*stacked[:3], jax.tree.map(jax.numpy.zeros_like, stacked[3]))
        for start in range(0, len(targets), batch_size):
            batch = order[:, start : start + batch_size]
            _, stacked = train_step(stacked, (inputs[batch], targets[batch]))
    for index, seed in enumerate(seeds):
        parts = (models[seed].trainable_variables, models[seed].non_trainable_variables, models[seed].optimizer.variables)
        for variables, values in zip(parts, stacked[:3]):
            for variable, value in zip(variables, values):
                variable.assign(value[index])
    seconds = time.perf_counter() - started
    report[way] = {"seconds": seconds, "identical": all(numbers(models[seed]) == alone[seed] for seed in seeds)}
print(json.dumps(report))
"""

SETTINGS = {"as the stages run": {}, "oneDNN capped at AVX2": {"ONEDNN_MAX_CPU_ISA": "AVX2"}}


def train(epochs: int, batch_size: int, network: str, setting: dict) -> dict:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("ONEDNN")} | setting
    command = [sys.executable, "-c", TRAIN, str(epochs), str(batch_size), network]
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"error: training under {setting or 'the stages settings'} failed: {result.stderr.strip().splitlines()[-1]}")
    return json.loads(result.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-sizes", default="1,6,7", help="comma-separated")
    args = parser.parse_args(argv)
    print(f"{'setting':<24} {'network':<8} {'batch':>5}  {'way':<8} {'seconds':>8}  identical to fit()")
    for name, setting in SETTINGS.items():
        for network in ("window", "stacked"):
            for batch_size in map(int, args.batch_sizes.split(",")):
                for way, figures in train(args.epochs, batch_size, network, setting).items():
                    identical = "yes" if figures["identical"] else "no"
                    print(f"{name:<24} {network:<8} {batch_size:>5}  {way:<8} {figures['seconds']:>8.1f}  {identical}")


if __name__ == "__main__":
    main()
