/** `mocoop zeroshot`: zero-shot accuracy with a template ensemble. */
import fs from 'node:fs';
import path from 'node:path';
import { requests } from '../../contract';
import { loadTemplateLibrary } from '../../services/clip-services';
import { type ParsedArgs, UsageError, checkFlags, stringFlag } from '../args';
import { services, print, requirePositional, backendFlag, checkUsage } from '../common';

export async function zeroshotCommand(args: ParsedArgs, argv: string[]): Promise<void> {
  checkFlags(args, ['model', 'templates', 'template', 'split', 'backend', 'json', 'debug']);
  backendFlag(args);
  const modelArg = stringFlag(args, 'model');
  if (!modelArg) throw new UsageError('zeroshot needs --model DIR (a CLIP folder) or the id of an installed model.');
  const split = stringFlag(args, 'split');
  if (split !== undefined && !['train', 'val', 'test'].includes(split)) throw new UsageError('--split must be train, val or test.');
  const single = argv.flatMap((arg, i) => (arg === '--template' && argv[i + 1] ? [argv[i + 1]!] : arg.startsWith('--template=') ? [arg.slice(11)] : []));
  if (args.flags.get('template') === true) throw new UsageError('--template needs a value (a template with {} for the class name).');
  const app = services();
  try {
    let templates = single;
    if (templates.length === 0) {
      const setId = stringFlag(args, 'templates') ?? 'imagenet-7';
      const set = loadTemplateLibrary().sets.find((s) => s.id === setId);
      if (!set)
        throw new UsageError(
          `Unknown template set "${setId}". Sets: ${loadTemplateLibrary()
            .sets.map((s) => s.id)
            .join(', ')}.`
        );
      templates = set.templates;
    }
    // The limits of the app's zero-shot request (count of templates), so results read back alike.
    checkUsage(requests['zeroshot.run'].input.shape.templates, templates, () => (single.length ? '--template' : 'the template set'));
    const asDir = path.resolve(modelArg);
    const model =
      fs.existsSync(asDir) && fs.statSync(asDir).isDirectory() ? await app.clip.models.register(asDir, { source: 'import' }) : app.clip.models.get(modelArg);
    app.openProjectFile(requirePositional(args, 1, 'the project file'));
    const report = await app.clip.runZeroShot(`cli-${Date.now()}`, model.id, templates, split as 'train' | 'val' | 'test' | undefined);
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    const human = [
      `Zero-shot accuracy ${pct(report.accuracy)} on ${report.images} images (${report.model.name}, ${report.backend}, ${report.templates.length} templates, ${report.seconds.toFixed(1)} s)`,
      'Per class:',
      ...report.perClass.map((c) => `  ${c.className}: ${pct(c.accuracy)} (${c.correct}/${c.images})`),
      'Per template:',
      ...report.perTemplate.map((t) => `  ${pct(t.accuracy)}  ${t.template}`),
      ...(report.skipped.length ? ['Skipped:', ...report.skipped.map((s) => `  ${s.path}: ${s.reason}`)] : [])
    ];
    print(args.flags.has('json'), report, human.join('\n'));
  } finally {
    app.dispose();
  }
}
