/** `mocoop fewshot`: a seeded few-shot set. */
import { requests } from '../../contract';
import { type ParsedArgs, UsageError, checkFlags, stringFlag } from '../args';
import { print, numberFlag, checkUsage, openTraining } from '../common';

export async function fewshotCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['k', 'seed', 'base-new', 'name', 'json', 'debug']);
  const k = numberFlag(args, 'k', true, 1);
  if (k === undefined) throw new UsageError('fewshot needs --k N (images per class).');
  const seed = numberFlag(args, 'seed', true, 0) ?? 1;
  checkUsage(requests['fewshot.create'].input, { k, seed, baseNew: args.flags.has('base-new'), name: stringFlag(args, 'name') }, (where) => `--${where}`);
  const { app, training } = openTraining(args);
  try {
    const set = training.createFewShotSet(k, seed, args.flags.has('base-new'), stringFlag(args, 'name'));
    print(
      args.flags.has('json'),
      set,
      `Created few-shot set #${set.id} "${set.name}": ${set.imageIds.length} images, ${set.baseClassIds.length} base class(es)${set.newClassIds.length ? `, ${set.newClassIds.length} new` : ''}.`
    );
  } finally {
    app.dispose();
  }
}
