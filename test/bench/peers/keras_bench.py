"""Keras 3 (TensorFlow backend) side of test/bench/vs-peers.ts: trains one reference model.

    python keras_bench.py --model A|B|C|D|E --data mnist10k.f32 [--jit auto|true] [--epochs 3] [--warmup 1]

The data file is 10,000 digits as float32 little-endian rows of 784 values in [0, 1], written by
vs-peers.ts from the studio's own `loadMnist(10000, {seed: 12345})`, so every framework trains on
the same numbers. Models (all batch 128, Adam 1e-3, shuffled every epoch):

  A  784 -> Dense 128 relu -> Dense 784 sigmoid; MSE
  B  28x28x1 -> Conv 32 s2 relu -> Conv 64 s2 relu -> Flatten -> Dense 16 -> Dense 7*7*64 relu
     -> Reshape -> ConvT 32 s2 relu -> ConvT 1 s2 sigmoid; 3x3, same padding; MSE
  C  VAE 784 -> Dense 512 relu -> mu, log var (2) -> z -> Dense 512 relu -> Dense 784 (logits);
     loss: binary cross-entropy summed over the pixels + KL, mean over the batch
  D  64x64x3, conv 32 -> 64 -> 128 (s2) -> Flatten -> Dense 128 -> Dense 8*8*128 relu -> Reshape
     -> ConvT 64 -> 32 -> ConvT 3 sigmoid; MSE; 2,000 pictures (images_rgb, 2x)
  E  128x128x3, conv 32 -> 64 -> 128 -> 256 (s2) -> Flatten -> Dense 256 -> Dense 8*8*256 relu
     -> Reshape -> ConvT 128 -> 64 -> 32 -> ConvT 3 sigmoid; MSE; 1,000 pictures (images_rgb, 4x)

samples/s is the median over the timed epochs (after --warmup epochs). Prints one "RESULT {json}".
"""
import argparse
import json
import os
import resource
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

PIXELS, BATCH, LR = 784, 128, 1e-3
SQUARES = {"D": (2000, 2, 4), "E": (1000, 4, 8)}  # pictures, upscale, border


def images_rgb(x, n, up, border):
    """The studio bench's recipe (test/bench/train.ts, imagesRgb): the first n digits upscaled up x
    by nearest neighbour, a zero border on every side, channels R = digit, G = digit mirrored
    left-right, B = 1 - digit. NHWC."""
    g = x[:n].reshape(n, 28, 28).repeat(up, axis=1).repeat(up, axis=2)
    g = np.pad(g, ((0, 0), (border, border), (border, border)))
    return np.ascontiguousarray(np.stack([g, g[:, :, ::-1], 1.0 - g], axis=-1), dtype=np.float32)


def conv_ae(size, filters, code):
    """Stride-2 3x3 convolutions (relu) down to 8x8, a linear code, and the mirror image back up."""
    side = size // 2 ** len(filters)
    net = [keras.Input((size, size, 3 if size > 28 else 1))]
    net += [layers.Conv2D(f, 3, strides=2, padding="same", activation="relu") for f in filters]
    net += [layers.Flatten(), layers.Dense(code), layers.Dense(side * side * filters[-1], activation="relu"),
            layers.Reshape((side, side, filters[-1]))]
    net += [layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu") for f in filters[-2::-1]]
    net += [layers.Conv2DTranspose(3 if size > 28 else 1, 3, strides=2, padding="same", activation="sigmoid")]
    return keras.Sequential(net)


def build(model):
    if model == "A":
        return keras.Sequential([keras.Input((PIXELS,)), layers.Dense(128, activation="relu"),
                                 layers.Dense(PIXELS, activation="sigmoid")])
    if model == "B":
        return conv_ae(28, [32, 64], 16)
    if model == "D":
        return conv_ae(64, [32, 64, 128], 128)
    if model == "E":
        return conv_ae(128, [32, 64, 128, 256], 256)
    raise ValueError(model)


class Vae(keras.Model):
    """Model C. The decoder gives logits; the loss is summed BCE with logits + KL, batch mean."""

    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(512, activation="relu")
        self.mean = layers.Dense(2)
        self.log_var = layers.Dense(2)
        self.dec_hidden = layers.Dense(512, activation="relu")
        self.dec_out = layers.Dense(PIXELS)
        self.noise = keras.random.SeedGenerator(1)
        self.tracker = keras.metrics.Mean(name="loss")

    def call(self, x, training=False):
        h = self.hidden(x)
        mu, lv = self.mean(h), self.log_var(h)
        z = mu + tf.exp(0.5 * lv) * keras.random.normal(tf.shape(mu), seed=self.noise)
        return self.dec_out(self.dec_hidden(z)), mu, lv

    @property
    def metrics(self):
        return [self.tracker]

    def train_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            logits, mu, lv = self(x, training=True)
            rec = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=1)
            kl = -0.5 * tf.reduce_sum(1.0 + lv - tf.square(mu) - tf.exp(lv), axis=1)
            loss = tf.reduce_mean(rec + kl)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.tracker.update_state(loss, sample_weight=tf.shape(x)[0])
        return {"loss": self.tracker.result()}


class Clock(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds, self.losses = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)
        self.losses.append(float(logs["loss"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=list("ABCDE"))
    ap.add_argument("--data", required=True)
    # auto: Keras's default (it resolves to no XLA on a CPU-only machine); true: jit_compile=True (XLA)
    ap.add_argument("--jit", default="auto", choices=["auto", "true"])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    if a.epochs < 1 or a.warmup < 0:
        ap.error("--epochs must be at least 1 and --warmup at least 0")

    x = np.fromfile(a.data, dtype="<f4").reshape(-1, PIXELS)
    jit = True if a.jit == "true" else "auto"
    if a.model == "C":
        model = Vae()
        model(x[:2])
        model.compile(optimizer=keras.optimizers.Adam(LR), jit_compile=jit)
        inputs = (x,)
    else:
        if a.model == "B":
            x = x.reshape(-1, 28, 28, 1)
        elif a.model in SQUARES:
            x = images_rgb(x, *SQUARES[a.model])
        model = build(a.model)
        model.compile(optimizer=keras.optimizers.Adam(LR), loss="mse", jit_compile=jit)
        inputs = (x, x)
    clock = Clock()
    model.fit(*inputs, batch_size=BATCH, epochs=a.warmup + a.epochs, shuffle=True, verbose=0, callbacks=[clock])
    median = statistics.median(clock.seconds[a.warmup:])
    print("RESULT " + json.dumps({
        "framework": "keras", "variant": f"fit jit_compile={model.jit_compile}", "model": a.model, "samples_per_epoch": len(x),
        "epoch_s": [round(s, 4) for s in clock.seconds], "warmup_epochs": a.warmup,
        "samples_per_s": round(len(x) / median, 1), "final_loss": clock.losses[-1],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
    }), flush=True)


if __name__ == "__main__":
    main()
