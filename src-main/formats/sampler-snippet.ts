// sample.js, written beside a TensorFlow.js export of a decoder whose run has a chosen sampler
// (runs/<id>/generation/sampler.json; docs/generation.md): it reads the sampler's parameters from
// studio.json ("sampler"), draws codes from it in plain JavaScript — the same densities as the
// studio's engine/generation/samplers.ts, with Math.random instead of the studio's seeded generator
// — and decodes them with the exported decoder. `node sample.js [N]` prints the images' shape; the
// function `sample(n)` is what an app would keep.
export const SAMPLE_JS = `// New images from this decoder and the sampler its run chose (studio.json "sampler").
// Usage: node sample.js [N]   (needs @tensorflow/tfjs-node; in a browser use @tensorflow/tfjs and a URL)
const fs = require('node:fs');
const path = require('node:path');
const tf = require('@tensorflow/tfjs-node');

const info = JSON.parse(fs.readFileSync(path.join(__dirname, 'studio.json'), 'utf8'));
const s = info.sampler;

function randn() {
  const u = 1 - Math.random();
  const v = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** mean + L·eps for a lower-triangular L (d×d, row-major). */
function gaussian(mean, L, eps) {
  const d = mean.length;
  return mean.map((m, r) => {
    let v = m;
    for (let k = 0; k <= r; k++) v += L[r * d + k] * eps[k];
    return v;
  });
}

/** One code drawn from the sampler. */
function drawCode() {
  const d = s.dim;
  const eps = Array.from({ length: d }, randn);
  if (s.kind === 'prior') return eps;
  if (s.kind === 'diagonal') return eps.map((e, k) => s.mean[k] + s.std[k] * e);
  if (s.kind === 'full') return gaussian(s.mean, s.chol, eps);
  if (s.kind === 'gmm') {
    let u = Math.random();
    let j = 0;
    while (j < s.weights.length - 1 && u >= s.weights[j]) u -= s.weights[j++];
    return gaussian(s.means[j], s.chols[j], eps);
  }
  if (s.kind === 'two-stage') {
    // the second-stage VAE's decoder: d → hidden (ReLU) → hidden (ReLU) → d, then un-standardised
    const H = s.hidden;
    const { w1, b1, w2, b2, w3, b3 } = s.decoder;
    const h1 = b1.map((b, j) => Math.max(0, eps.reduce((acc, e, k) => acc + e * w1[k * H + j], b)));
    const h2 = b2.map((b, j) => Math.max(0, h1.reduce((acc, h, k) => acc + h * w2[k * H + j], b)));
    return b3.map((b, j) => s.shift[j] + s.scale[j] * h2.reduce((acc, h, k) => acc + h * w3[k * d + j], b));
  }
  throw new Error('unknown sampler ' + s.kind);
}

/** n new images, [n, H, W, C] with pixels in 0…1. */
async function sample(model, n) {
  const codes = tf.tensor2d(Array.from({ length: n }, drawCode));
  const images = model.predict(codes);
  codes.dispose();
  return images;
}

(async () => {
  const model = await tf.loadLayersModel('file://' + path.join(__dirname, 'model.json'));
  const images = await sample(model, Number(process.argv[2] || 8));
  const px = await images.data();
  console.log(JSON.stringify({ sampler: s.name, shape: images.shape, min: Math.min(...px), max: Math.max(...px) }));
})();
`;
