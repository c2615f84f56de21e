/** `mocoop backends`: which engine runs the encoders and training on this machine. */
import { type ParsedArgs, checkFlags } from '../args';
import { backendsReport } from '../backends-command';
import { backendFlag, print } from '../common';

export async function backendsCommand(args: ParsedArgs): Promise<void> {
  checkFlags(args, ['backend', 'json', 'debug']);
  const report = await backendsReport(backendFlag(args));
  print(args.flags.has('json'), report.json, report.text);
}
