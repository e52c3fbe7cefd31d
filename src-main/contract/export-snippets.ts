// Short code to load and run an export, shown beside it in the Export view and run as written by
// test/integration/export-snippets.test.ts (TF.js in Node, Keras in Python, onnxruntime). Pure:
// no Node, no tfjs.

export interface SnippetInput {
  format: 'tfjs' | 'keras' | 'onnx';
  part: 'encoder' | 'decoder' | 'full';
  /** The export's file (or, for TensorFlow.js, folder) name. */
  fileName: string;
  /** H × W × C of the model's images. */
  inputShape: [number, number, number];
  latentDim: number;
  /** A VAE's encoder has two outputs: the code's mean and log-variance. */
  vae: boolean;
}

export interface Snippet {
  language: 'javascript' | 'python';
  /** What to install first. */
  install: string;
  code: string;
}

/** The input the part takes and what comes out, in words for the comments. */
function shapes(s: SnippetInput) {
  const [h, w, c] = s.inputShape;
  const image = `[1, ${h}, ${w}, ${c}]`;
  const code = `[1, ${s.latentDim}]`;
  const input =
    s.part === 'decoder'
      ? { dims: [1, s.latentDim], what: `a code ${code}` }
      : { dims: [1, h, w, c], what: `images ${image}, pixels scaled to 0…1` };
  const output =
    s.part === 'encoder'
      ? s.vae
        ? `the code's mean and log-variance, ${code} each`
        : `the code ${code}`
      : `images ${image}`;
  return { input, output };
}

export function exportSnippet(s: SnippetInput): Snippet {
  const { input, output } = shapes(s);
  const dims = input.dims.join(', ');
  const name = JSON.stringify(s.fileName);
  if (s.format === 'tfjs') {
    return {
      language: 'javascript',
      install: 'npm install @tensorflow/tfjs-node',
      code: [
        "const path = require('node:path');",
        "const tf = require('@tensorflow/tfjs-node'); // in a browser: @tensorflow/tfjs and tf.loadLayersModel(url)",
        '',
        '(async () => {',
        `  const model = await tf.loadLayersModel('file://' + path.resolve(${name}, 'model.json'));`,
        `  const x = tf.zeros([${dims}]); // ${input.what}`,
        `  const y = model.predict(x); // ${output}`,
        '  console.log([].concat(y).map((t) => JSON.stringify(t.shape)).join(" "));',
        '})();',
      ].join('\n'),
    };
  }
  const load =
    s.format === 'keras'
      ? [`import keras`, `model = keras.saving.load_model(${name})`]
      : [`import onnxruntime as ort`, `session = ort.InferenceSession(${name})`];
  const run =
    s.format === 'keras'
      ? [
          `y = model.predict(x, verbose=0)  # ${output}`,
          `print(" ".join(str(list(t.shape)).replace(" ", "") for t in (y if isinstance(y, list) else [y])))`,
        ]
      : [
          `y = session.run(None, {session.get_inputs()[0].name: x})  # ${output}`,
          `print(" ".join(str(list(t.shape)).replace(" ", "") for t in y))`,
        ];
  return {
    language: 'python',
    install: s.format === 'keras' ? 'pip install keras tensorflow numpy' : 'pip install onnxruntime numpy',
    code: ['import numpy as np', ...load, '', `x = np.zeros((${dims}), dtype="float32")  # ${input.what}`, ...run].join(
      '\n',
    ),
  };
}
