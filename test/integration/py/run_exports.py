"""Loads studio exports in the runtimes they are for and writes their outputs (export tests).

Usage: python run_exports.py jobs.json
jobs.json: [{"id", "format": "keras"|"onnx", "model": path, "input": x.npy, "outputs": [y0.npy, ...]}]
Keras 3 (TensorFlow backend) loads .keras files with keras.saving.load_model; ONNX files are checked
with onnx.checker and run in onnxruntime. Prints one JSON object describing what was loaded.
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

jobs = json.load(open(sys.argv[1]))
report = {}
if any(j["format"] == "keras" for j in jobs):
    import keras  # noqa: E402

    report["keras_version"] = keras.__version__
    report["keras_backend"] = keras.backend.backend()
if any(j["format"] == "onnx" for j in jobs):
    import onnx  # noqa: E402
    import onnxruntime as ort  # noqa: E402

    report["onnxruntime_version"] = ort.__version__

for j in jobs:
    x = np.load(j["input"])
    info = {}
    if j["format"] == "keras":
        model = keras.saving.load_model(j["model"])
        ys = model.predict(x, batch_size=len(x), verbose=0)
        info["layers"] = [layer.name for layer in model.layers]
        info["name"] = model.name
    else:
        proto = onnx.load(j["model"])
        onnx.checker.check_model(proto, full_check=True)
        info["opset"] = [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")][0]
        info["ops"] = sorted({n.op_type for n in proto.graph.node})
        sess = ort.InferenceSession(j["model"], providers=["CPUExecutionProvider"])
        info["inputs"] = [[i.name, i.shape] for i in sess.get_inputs()]
        info["outputs"] = [[o.name, o.shape] for o in sess.get_outputs()]
        ys = sess.run(None, {sess.get_inputs()[0].name: x})
    if not isinstance(ys, (list, tuple)):
        ys = [ys]
    if len(ys) != len(j["outputs"]):
        raise SystemExit(f"{j['id']}: the model gave {len(ys)} outputs, expected {len(j['outputs'])}")
    for y, path in zip(ys, j["outputs"]):
        np.save(path, np.ascontiguousarray(np.asarray(y, dtype=np.float32)))
    info["shapes"] = [list(np.shape(y)) for y in ys]
    report[j["id"]] = info

print("RESULT " + json.dumps(report))
