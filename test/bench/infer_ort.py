# onnxruntime's side of test/bench/infer.ts: runs an ONNX model (the studio's own export) on float32
# NHWC batches in [0, 1] with onnxruntime's default session options (default threads), warm-up
# first, then as many batches as fit in the time given; prints RESULT {"images_per_s": ...}.
#   python infer_ort.py model.onnx BATCH SECONDS
import json
import sys
import time

import numpy as np
import onnxruntime as ort

path, batch, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
inp = sess.get_inputs()[0]
shape = [batch] + [int(d) for d in inp.shape[1:]]
rng = np.random.default_rng(1)
x = rng.random(shape, dtype=np.float32)
for _ in range(3):
    sess.run(None, {inp.name: x})
done = 0
start = time.perf_counter()
while True:
    sess.run(None, {inp.name: x})
    done += batch
    elapsed = time.perf_counter() - start
    if elapsed >= seconds and done >= 3 * batch:
        break
print("RESULT " + json.dumps({"images_per_s": done / elapsed, "onnxruntime": ort.__version__, "batches": done // batch}))
