/** `mocoop templates --import | --export`: template groups as JSON. */
import fs from 'node:fs';
import { requests } from '../../contract';
import { AppError } from '../../contract/errors';
import { checkWithContract, explainIssue } from '../../contract/limits';
import { type ParsedArgs, UsageError, checkFlags, stringFlag } from '../args';
import { print, openTraining } from '../common';
import { readJsonFile } from '../../clip/regular-file';

export async function templatesCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['import', 'export', 'json', 'debug']);
  const importFile = stringFlag(args, 'import');
  const exportFile = stringFlag(args, 'export');
  if (!!importFile === !!exportFile) throw new UsageError('Give --import FILE or --export FILE.');
  const { app, training } = openTraining(args);
  try {
    if (importFile) {
      const parsed = readJsonFile(importFile);
      // The app's own request schema: the same limits on groups, templates and their lengths.
      const schema = requests['templates.setGroups'].input;
      const shape = schema.safeParse(parsed);
      if (!shape.success && shape.error.issues.some((i) => i.code !== 'too_big')) {
        const issue = shape.error.issues.find((i) => i.code !== 'too_big')!;
        throw new AppError(
          'bad_source',
          `${explainIssue(issue, parsed, `${importFile} (field "${issue.path.join('.') || '(root)'}")`)} Expected {"groups": [{"name": "...", "templates": ["a photo of a {}.", ...]}, ...]}.`
        );
      }
      const data = checkWithContract(schema, parsed, (where) => `${importFile}: ${where}`, 'bad_source');
      const groups = training.training.replaceTemplateGroups(data.groups);
      print(
        args.flags.has('json'),
        { groups: groups.map((g) => ({ name: g.name, templates: g.templates })) },
        `Imported ${groups.length} group(s) with ${groups.reduce((n, g) => n + g.templates.length, 0)} templates.`
      );
    } else {
      const groups = training.training.templateGroups().map((g) => ({ name: g.name, templates: g.templates }));
      fs.writeFileSync(exportFile!, JSON.stringify({ groups }, null, 2));
      print(args.flags.has('json'), { groups }, `Exported ${groups.length} group(s) to ${exportFile}.`);
    }
  } finally {
    app.dispose();
  }
}
