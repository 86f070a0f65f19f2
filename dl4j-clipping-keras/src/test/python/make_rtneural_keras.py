"""Turns RTNeural's export of a Keras model (resources/keras/rtneural-gru/gru.json, written by RTNeural's
python/model_utils.py from layer.get_weights(), so every array is in Keras's own layout) back into a Keras
architecture JSON and a Keras weights-only .h5 (the layout of model.save_weights in tf.keras 2.x), so the test
imports it through KerasImport.sequential(json, weights) and compares with Keras's model.predict output
(gru_y_python.csv). The architecture is gru.py's: TimeDistributed(Dense(8, tanh)) -> GRU(8, tanh/sigmoid,
reset_after=True, return_sequences=True) -> Dense(8, sigmoid) -> Dense(1), input [None, None, 1].

Run once: /usr/bin/python3 make_rtneural_keras.py ../resources/keras/rtneural-gru   (h5py 3.7, numpy 1.24)
"""
import json
import os
import sys

import h5py
import numpy as np

from make_keras_variants import dense_config, gru_config, input_layer, time_distributed


def main(folder):
    with open(os.path.join(folder, "gru.json")) as f:
        export = json.load(f)
    arrays = [[np.asarray(w, dtype=np.float32) for w in layer["weights"]] for layer in export["layers"]]
    layers = [input_layer("input_1", None, 1),
              time_distributed("time_distributed", dense_config("dense", 8, "tanh")),
              gru_config("gru", 8, "tanh", "sigmoid", reset_after=True, return_sequences=True),
              dense_config("dense_1", 8, "sigmoid"),
              dense_config("dense_2", 1, "linear")]
    model = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers},
             "keras_version": "2.4.0", "backend": "tensorflow"}
    with open(os.path.join(folder, "gru_keras_model.json"), "w") as f:
        json.dump(model, f, indent=1)
    groups = {"time_distributed": [("time_distributed/kernel:0", arrays[0][0]),
                                   ("time_distributed/bias:0", arrays[0][1])],
              "gru": [("gru/gru_cell/kernel:0", arrays[1][0]),
                      ("gru/gru_cell/recurrent_kernel:0", arrays[1][1]),
                      ("gru/gru_cell/bias:0", arrays[1][2])],
              "dense_1": [("dense_1/kernel:0", arrays[2][0]), ("dense_1/bias:0", arrays[2][1])],
              "dense_2": [("dense_2/kernel:0", arrays[3][0]), ("dense_2/bias:0", arrays[3][1])]}
    with h5py.File(os.path.join(folder, "gru_keras_weights.h5"), "w") as f:
        f.attrs["keras_version"] = b"2.4.0"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["layer_names"] = [n.encode("utf8") for n in groups]
        for name, entries in groups.items():
            g = f.create_group(name)
            g.attrs["weight_names"] = [w.encode("utf8") for w, _ in entries]
            for w, value in entries:
                g.create_dataset(w, data=value)


if __name__ == "__main__":
    main(sys.argv[1])
