/** `mocoop export-labels`: the labels as CSV, CoOp split JSON, Label Studio JSON or an ImageFolder. */
import path from 'node:path';
import { type ParsedArgs, UsageError, checkFlags, stringFlag } from '../args';
import { services, print, requirePositional } from '../common';

const EXPORT_FORMATS = ['csv', 'coop', 'labelstudio', 'imagefolder'] as const;
const LINK_MODES = ['copy', 'symlink', 'hardlink'] as const;

export async function exportLabelsCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['format', 'out', 'include-unlabeled', 'link', 'by-split', 'overwrite', 'json', 'debug']);
  const format = stringFlag(args, 'format');
  const out = stringFlag(args, 'out');
  if (!format || !(EXPORT_FORMATS as readonly string[]).includes(format))
    throw new UsageError(`export-labels needs --format ${EXPORT_FORMATS.join('|')}${format ? ` (got "${format}")` : ''}.`);
  if (!out) throw new UsageError('export-labels needs --out PATH (a file, a folder to save into, or for imagefolder the folder to create).');
  const link = stringFlag(args, 'link');
  if (link !== undefined && !(LINK_MODES as readonly string[]).includes(link))
    throw new UsageError(`--link must be one of ${LINK_MODES.join(', ')} (got "${link}").`);
  if ((link !== undefined || args.flags.has('by-split')) && format !== 'imagefolder')
    throw new UsageError('--link and --by-split apply to --format imagefolder only.');
  const { exportTo } = await import('../../services/label-export-to');
  const app = services();
  try {
    app.openProjectFile(requirePositional(args, 1, 'the project file'));
    const result = exportTo(app.project, {
      format: format as (typeof EXPORT_FORMATS)[number],
      target: path.resolve(out),
      includeUnlabeled: args.flags.has('include-unlabeled') || undefined,
      link: link as (typeof LINK_MODES)[number] | undefined,
      bySplit: args.flags.has('by-split'),
      overwrite: args.flags.has('overwrite')
    });
    const lines = [
      `${result.replaced ? 'Replaced' : 'Saved'} ${result.savedTo}: ${result.images} image(s)${result.left ? `, ${result.left} unlabeled left out` : ''}`,
      result.imageRoot
        ? `Image root: ${result.imageRoot}${format === 'labelstudio' ? ' (serve it with LOCAL_FILES_DOCUMENT_ROOT set to this folder)' : ''}`
        : '',
      result.labelConfig ? `Labeling config for the Label Studio project:\n${result.labelConfig.trimEnd()}` : '',
      ...result.renamed.map((r) => `  class "${r.name}" is in folder "${r.folder}"`),
      result.skipped.length ? `Not exported: ${result.skipped.length}` : '',
      ...result.skipped.slice(0, 50).map((s) => `  ${s.path}: ${s.reason}`)
    ].filter(Boolean);
    print(args.flags.has('json'), result, lines.join('\n'));
  } finally {
    app.dispose();
  }
}
