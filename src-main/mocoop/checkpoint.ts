/**
 * A training checkpoint: the epoch it ends and named lists of tensors (the trainers keep `params` and
 * `velocity`), as UTF-8 JSON, version 1:
 *
 *   {"version":1,"epoch":E,"params":[{"shape":[…],"data":[…]},…],"velocity":[…]}
 *
 * The lists are written in the order given. Restoring checks every list against the run's own tensors
 * (same count, same shapes) before it makes any tensor, and refuses a checkpoint of another run.
 */
import { type Tensor, tf } from '../clip/tf';

interface Packed {
  shape: number[];
  data: number[];
}

/** The message a checkpoint of another run is refused with, unless the caller gives its own. */
export const CHECKPOINT_MISMATCH = 'The checkpoint does not match this run.';

export function serializeCheckpoint<K extends string>(epoch: number, lists: Record<K, Tensor[]>): Buffer {
  const state: Record<string, unknown> = { version: 1, epoch };
  for (const [name, tensors] of Object.entries(lists) as [K, Tensor[]][]) {
    state[name] = tensors.map((t): Packed => ({ shape: t.shape, data: Array.from(t.dataSync()) }));
  }
  return Buffer.from(JSON.stringify(state));
}

/**
 * The epoch and the named lists of a checkpoint, as new tensors; `like` gives, for each list, tensors of
 * the shapes expected. A checkpoint whose lists differ in count or shape is refused with `mismatch`.
 */
export function restoreCheckpoint<K extends string>(
  buffer: Buffer,
  like: Record<K, Tensor[]>,
  mismatch: string = CHECKPOINT_MISMATCH
): { epoch: number; lists: Record<K, Tensor[]> } {
  const state = JSON.parse(buffer.toString('utf8')) as { epoch: number } & Record<string, unknown>;
  const names = Object.keys(like) as K[];
  const items = names.map((name) => {
    const list = state[name];
    const shapes = like[name].map((t) => t.shape.join(','));
    const shapeOf = (it: Packed | null | undefined) => (Array.isArray(it?.shape) ? it.shape.join(',') : null);
    if (!Array.isArray(list) || list.length !== shapes.length || (list as Packed[]).some((it, i) => shapeOf(it) !== shapes[i])) throw new Error(mismatch);
    return list as Packed[];
  });
  const lists = {} as Record<K, Tensor[]>;
  names.forEach((name, n) => (lists[name] = items[n]!.map((it) => tf.tensor(it.data, it.shape))));
  return { epoch: state.epoch, lists };
}
