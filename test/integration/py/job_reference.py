# Reference outputs of cluster jobs for test/integration/cluster-job.test.ts, in ONE Python process
# (torch starts once): for each job folder, its own train.py is loaded as a module and run with
# the given steps, e.g. ["predict", "IMAGES.npy", "OUT_DIR"] (reconstructions and codes with the
# folder's latest weights) or ["train", "1"] (one epoch in this process, no torchrun).
#   python job_reference.py '[{"dir": "/job", "steps": [["predict", "probe.npy", "out0"], ["train", "1"], ["predict", "probe.npy", "out1"]]}]'
import importlib.util
import json
import os
import sys

for i, item in enumerate(json.loads(sys.argv[1])):
    spec = importlib.util.spec_from_file_location("job_train_%d" % i, os.path.join(item["dir"], "train.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for step in item["steps"]:
        if step[0] == "predict":
            mod.main(["--predict", step[1], "--predict-out", step[2]])
        elif step[0] == "train":
            mod.main(["--epochs", step[1], "--log-every", "1000"])
        else:
            raise SystemExit("unknown step %r" % (step,))
