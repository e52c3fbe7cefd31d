// The one import of tfjs for the engine: always the native binding (@tensorflow/tfjs-node),
// never the browser package (a bundled native addon cannot find its binary).
import * as tf from '@tensorflow/tfjs-node';

export { tf };
export type Tensor = tf.Tensor;
