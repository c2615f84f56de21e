/**
 * The one tfjs entry point. Everything goes through the packages' CommonJS builds ('@tensorflow/tfjs'
 * registers every gradient and the CPU backend; wasm and tfjs-node register into the same core),
 * because mixing the ESM and CommonJS builds of tfjs-core yields two engines that cannot share tensors.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D } from '@tensorflow/tfjs';

// Production mode: no console advice about tfjs-node (the backend choice is explicit and shown to users).
tf.env().set('PROD', true);
