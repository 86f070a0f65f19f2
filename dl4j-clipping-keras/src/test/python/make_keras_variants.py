"""Writes small Keras-format .h5 files for the GRU variants no real file in src/test/resources/keras/ has.

Keras itself is not installable on the build machine, so the files are written with h5py in the layout Keras
saves (keras/saving/legacy/hdf5_format.py of tf.keras 2.x; Keras 3's legacy_h5_format.py): file attributes
keras_version, backend, model_config (the architecture JSON, written by hand in Keras's format) and, per layer, a
group under model_weights with a weight_names attribute and the datasets at those names. Weights are seeded
uniform values in [-0.6, 0.6]. The tests never run this script; they read the files it wrote (committed) and
compare the imported networks with KerasReference, which reads the same datasets by path.

Run once: /usr/bin/python3 make_keras_variants.py ../resources/keras/variants   (h5py 3.7, numpy 1.24)
"""
import json
import os
import sys

import h5py
import numpy as np

RNG = np.random.default_rng(20261204)


def uniform(*shape):
    return RNG.uniform(-0.6, 0.6, size=shape).astype(np.float32)


def gru_config(name, units, activation="tanh", recurrent_activation="sigmoid", reset_after=True,
               return_sequences=True, go_backwards=False, batch_input_shape=None, extra=None):
    c = {"name": name, "trainable": True, "dtype": "float32", "return_sequences": return_sequences,
         "return_state": False, "go_backwards": go_backwards, "stateful": False, "unroll": False,
         "time_major": False, "units": units, "activation": activation,
         "recurrent_activation": recurrent_activation, "use_bias": True,
         "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
         "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}},
         "bias_initializer": {"class_name": "Zeros", "config": {}},
         "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
         "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
         "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2,
         "reset_after": reset_after}
    if batch_input_shape is not None:
        c["batch_input_shape"] = batch_input_shape
    if extra:
        c.update(extra)
    return {"class_name": "GRU", "config": c}


def dense_config(name, units, activation):
    return {"class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation,
        "use_bias": True, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
        "bias_constraint": None}}


def time_distributed(name, inner):
    return {"class_name": "TimeDistributed", "config": {"name": name, "trainable": True, "dtype": "float32",
                                                          "layer": inner}}


def input_layer(name, time, features, shape_key="batch_input_shape"):
    return {"class_name": "InputLayer", "config": {shape_key: [None, time, features],
                                                     "dtype": "float32", "sparse": False, "ragged": False,
                                                     "name": name}}


def masking(name, value):
    return {"class_name": "Masking", "config": {"name": name, "trainable": True, "dtype": "float32",
                                                  "mask_value": value}}


def bidirectional(name, inner, merge_mode):
    return {"class_name": "Bidirectional", "config": {"name": name, "trainable": True, "dtype": "float32",
                                                        "layer": inner, "merge_mode": merge_mode}}


def gru_weights(n_in, units, reset_after):
    bias = uniform(2, 3 * units) if reset_after else uniform(3 * units)
    return [("kernel", uniform(n_in, 3 * units)), ("recurrent_kernel", uniform(units, 3 * units)),
            ("bias", bias)]


def dense_weights(n_in, units):
    return [("kernel", uniform(n_in, units)), ("bias", uniform(units))]


def keras3_functional(layers):
    """Keras 3's functional form: a chain of layers with inbound nodes as {"args": [__keras_tensor__], ...}."""
    out = []
    previous = None
    for layer in layers:
        layer = dict(layer)
        layer["name"] = layer["config"]["name"]
        layer["module"] = "keras.layers"
        layer["registered_name"] = None
        layer["config"] = dict(layer["config"])
        if "dtype" in layer["config"]:
            layer["config"]["dtype"] = {"module": "keras", "class_name": "DTypePolicy",
                                        "config": {"name": "float32"}, "registered_name": None}
        layer["inbound_nodes"] = [] if previous is None else [{
            "args": [{"class_name": "__keras_tensor__",
                      "config": {"shape": [None], "dtype": "float32", "keras_history": [previous, 0, 0]}}],
            "kwargs": {"training": False, "mask": None}}]
        previous = layer["name"]
        out.append(layer)
    return {"module": "keras", "class_name": "Functional", "registered_name": None,
            "config": {"name": "functional", "trainable": True, "layers": out,
                       "input_layers": [out[0]["name"], 0, 0], "output_layers": [[previous, 0, 0]]}}


def write(path, layers, weights, keras_version="2.10.0", weights_only=False, keras3_paths=False,
          functional=False):
    """weights: {layer name: [(name inside the layer group, array)]}; names are completed to Keras's paths."""
    model = keras3_functional(layers) if functional else {"class_name": "Sequential",
                                                           "config": {"name": "sequential", "layers": layers}}
    with h5py.File(path, "w") as f:
        if not weights_only:
            f.attrs["keras_version"] = keras_version.encode("utf8")
            f.attrs["backend"] = b"tensorflow"
            f.attrs["model_config"] = json.dumps(model).encode("utf8")
            root = f.create_group("model_weights")
        else:
            root = f
        root.attrs["keras_version"] = keras_version.encode("utf8")
        root.attrs["backend"] = b"tensorflow"
        names = [l["config"]["name"] for l in layers if l["class_name"] != "InputLayer"]
        if functional:
            names = [l["config"]["name"] for l in layers]
        root.attrs["layer_names"] = [n.encode("utf8") for n in names]
        for n in names:
            g = root.create_group(n)
            entries = weights.get(n, [])
            full = []
            for inner, value in entries:
                wname = (n + "/" + inner) if functional else (
                    ("sequential/" + n + "/" + inner) if keras3_paths else (n + "/" + inner + ":0"))
                full.append(wname)
                g.create_dataset(wname, data=value)
            g.attrs["weight_names"] = [w.encode("utf8") for w in full]
    if weights_only:
        with open(path[:-3] + ".json", "w") as j:
            model["keras_version"] = keras_version
            model["backend"] = "tensorflow"
            json.dump(model, j, indent=1)


def main(out):
    os.makedirs(out, exist_ok=True)
    t, f = 7, 3
    # Masking -> GRU(relu / hard_sigmoid (Keras 2), reset_after=False, go_backwards, sequences) -> TD(Dense(tanh))
    write(os.path.join(out, "masked_backwards_reset_before.h5"),
          [input_layer("in", t, f), masking("masking", 0.0),
           gru_config("gru", 5, "relu", "hard_sigmoid", reset_after=False, go_backwards=True),
           time_distributed("time_distributed", dense_config("dense", 4, "tanh"))],
          {"gru": [("gru_cell/" + k, v) for k, v in gru_weights(f, 5, False)],
           "time_distributed": dense_weights(5, 4)})
    # Masking(-1) -> GRU(linear / hard_sigmoid, reset_after, last output) -> Dense(2): Keras 3 file and paths
    write(os.path.join(out, "keras3_masked_last_linear.h5"),
          [input_layer("in", t, f, shape_key="batch_shape"), masking("masking", -1.0),
           gru_config("gru", 4, "linear", "hard_sigmoid", reset_after=True, return_sequences=False),
           dense_config("dense", 2, "linear")],
          {"gru": [("gru_cell/" + k, v) for k, v in gru_weights(f, 4, True)],
           "dense": dense_weights(4, 2)}, keras_version="3.8.0", keras3_paths=True)
    # GRU(tanh / sigmoid, go_backwards, last output) -> Dense(3, softmax), as JSON + weights-only file
    write(os.path.join(out, "backwards_last_weights.h5"),
          [input_layer("in", t, f),
           gru_config("gru", 6, "tanh", "sigmoid", reset_after=True, return_sequences=False, go_backwards=True),
           dense_config("dense", 3, "softmax")],
          {"gru": [("gru_cell/" + k, v) for k, v in gru_weights(f, 6, True)],
           "dense": dense_weights(6, 3)}, weights_only=True)
    # Bidirectional(GRU(4), merge_mode) -> TD(Dense(2)) for each merge mode; sequences
    for mode in ["concat", "sum", "mul", "ave"]:
        inner = gru_config("gru", 4, "tanh", "sigmoid", reset_after=True)
        n_merged = 8 if mode == "concat" else 4
        fw = [("forward_gru/gru_cell_1/" + k, v) for k, v in gru_weights(f, 4, True)]
        bw = [("backward_gru/gru_cell_2/" + k, v) for k, v in gru_weights(f, 4, True)]
        write(os.path.join(out, "bidirectional_" + mode + ".h5"),
              [input_layer("in", t, f), masking("masking", 0.0), bidirectional("bidirectional", inner, mode),
               time_distributed("time_distributed", dense_config("dense", 2, "linear"))],
              {"bidirectional": fw + bw, "time_distributed": dense_weights(n_merged, 2)})
    # Bidirectional(GRU(3, reset_after=False, hard_sigmoid), concat, last output) -> Dense(2)
    inner = gru_config("gru", 3, "tanh", "hard_sigmoid", reset_after=False, return_sequences=False)
    fw = [("forward_gru/gru_cell_1/" + k, v) for k, v in gru_weights(f, 3, False)]
    bw = [("backward_gru/gru_cell_2/" + k, v) for k, v in gru_weights(f, 3, False)]
    write(os.path.join(out, "bidirectional_last.h5"),
          [input_layer("in", t, f), bidirectional("bidirectional", inner, "concat"),
           dense_config("dense", 2, "linear")],
          {"bidirectional": fw + bw, "dense": dense_weights(6, 2)})
    # Keras 3 Functional: GRU(5, tanh / hard_sigmoid (Keras 3), reset_after=False, sequences) -> GRU(4, last)
    # -> Dense(3, softmax); Keras 3's inbound nodes and a flat input_layers entry
    write(os.path.join(out, "keras3_functional_stacked.h5"),
          [input_layer("input_layer", t, f, shape_key="batch_shape"),
           gru_config("gru", 5, "tanh", "hard_sigmoid", reset_after=False, return_sequences=True),
           gru_config("gru_1", 4, "tanh", "sigmoid", reset_after=True, return_sequences=False),
           dense_config("dense", 3, "softmax")],
          {"gru": [("gru_cell/" + k, v) for k, v in gru_weights(f, 5, False)],
           "gru_1": [("gru_cell/" + k, v) for k, v in gru_weights(5, 4, True)],
           "dense": dense_weights(4, 3)}, keras_version="3.5.0", functional=True)


if __name__ == "__main__":
    main(sys.argv[1])
