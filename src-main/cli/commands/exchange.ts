/** `mocoop export | import-experts`: trained experts as safetensors + manifest. */
import path from 'node:path';
import { checkOutputFolder } from '../../services/output-folder';
import { type ParsedArgs, UsageError, checkFlags, stringFlag } from '../args';
import { print, openTraining } from '../common';

export async function exchangeCommand(command: 'export' | 'import-experts', args: ParsedArgs): Promise<void> {
  checkFlags(args, ['run', 'out', 'from', 'json', 'debug']);
  const { app, training } = openTraining(args);
  try {
    if (command === 'export') {
      const runId = stringFlag(args, 'run');
      const out = stringFlag(args, 'out');
      if (!runId || !out) throw new UsageError('export needs --run ID and --out DIR.');
      // Checked on its real path before anything is written (a link to /proc would hang the mkdir).
      const files = training.exportRun(runId, checkOutputFolder(path.resolve(out), 'the exported experts'));
      print(args.flags.has('json'), files, `Exported ${runId}:\n  ${files.weights}\n  ${files.manifest}`);
    } else {
      const from = stringFlag(args, 'from');
      if (!from) throw new UsageError('import-experts needs --from DIR (a folder written by "mocoop export").');
      const runId = training.importRun(path.resolve(from));
      print(args.flags.has('json'), { run: runId }, `Imported as run ${runId}.`);
    }
  } finally {
    app.dispose();
  }
}
