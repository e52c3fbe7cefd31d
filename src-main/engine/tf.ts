// The one import of tfjs for the engine: always the native binding (@tensorflow/tfjs-node),
// never the browser package (a bundled native addon cannot find its binary). tf-options.ts comes
// first: it sets what TensorFlow reads when its library loads.
import './tf-options';
import * as tf from '@tensorflow/tfjs-node';

export { tf };
export type Tensor = tf.Tensor;
