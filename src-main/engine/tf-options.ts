// TensorFlow settings that must be in the environment before its library loads (it reads them once,
// at load time): imported by tf.ts ahead of tfjs-node, so every process that trains gets them.
//
// TF_ENABLE_ONEDNN_OPTS: on CPUs with AVX-512 VNNI / BF16 / AMX, TensorFlow turns its oneDNN graph
// rewrite on by default, so the graph step's many-channel convolutions become oneDNN kernels; on
// AVX2-only CPUs it is off. Measured 2026-12-02 on a 2-core AVX-512 EPYC (interleaved runs of
// `npm run bench`, samples/s): model B 6,200–7,200 with the rewrite on, 7,800–8,100 off; A, C and D
// within noise either way. Off is also what AVX2 machines run, so the studio trains the same way on
// both. The few-channel convolutions still run on oneDNN, called by name (fast/native.ts). A user who
// sets the variable keeps their choice (the trainer passes it through).
process.env.TF_ENABLE_ONEDNN_OPTS ??= '0';

export {};
