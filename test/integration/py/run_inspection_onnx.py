# Runs ONNX exports of inspection runs with onnxruntime: every output saved as <prefix>-<name>.npy,
# and each model's output names and metadata_props printed as one JSON line (RESULT …).
import json
import sys

import numpy as np
import onnxruntime as ort

jobs = json.load(open(sys.argv[1]))
report = {"onnxruntime_version": ort.__version__, "models": {}}
for j in jobs:
    s = ort.InferenceSession(j["model"], providers=["CPUExecutionProvider"])
    x = np.load(j["input"])
    names = [o.name for o in s.get_outputs()]
    for name, value in zip(names, s.run(None, {s.get_inputs()[0].name: x})):
        np.save(f"{j['prefix']}-{name}.npy", np.ascontiguousarray(value, dtype=np.float32))
    report["models"][j["prefix"]] = {"outputs": names, "meta": s.get_modelmeta().custom_metadata_map}
print("RESULT " + json.dumps(report))
