/** `mocoop report`: report.html, metrics.json and predictions.csv of a run. */
import path from 'node:path';
import { writeReport } from '../../services/report-writer';
import { packageVersion } from '../../services/paths';
import { type ParsedArgs, UsageError, checkFlags, stringFlag } from '../args';
import { print, openTraining } from '../common';

export async function reportCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['run', 'out', 'json', 'debug']);
  const runId = stringFlag(args, 'run');
  const out = stringFlag(args, 'out');
  if (!runId || !out) throw new UsageError('report needs --run ID and --out DIR.');
  const { app, training } = openTraining(args);
  try {
    const files = writeReport(path.resolve(out), training.reportInput(runId, packageVersion()));
    print(args.flags.has('json'), files, `Report written:\n  ${files.html}\n  ${files.json}\n  ${files.csv}`);
  } finally {
    app.dispose();
  }
}
