/**
 * The bench's reliability line: the fuzz corpus of test/reliability/fuzz (more cases than CI runs)
 * through the app's real paths — model files, CSV, split JSON, images, template files — judged as in
 * the tests, and exported-experts folders (bench only for now). Prints (or returns) {inputsTried, refusedCleanly, accepted, crashed, unclearMessage,
 * wronglyAccepted, dataLost} overall and per kind; the goal is 0 crashed, 0 unclear, 0 lost.
 *
 *   npx tsx test/bench/reliability.mts [--seed S] [--per-kind N] [--kinds csv,split,...] [--verbose]
 *   (BENCH_RELIABILITY_CASES=N sets the count per kind when run from run.mts)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initBackend } from '../../src-main/clip/backend';
import { FuzzWorld } from '../reliability/fuzz/harness';
import { type CaseResult, type Tally, describeFailures, tally } from '../reliability/fuzz/judge';
import { IMPORT_KINDS } from '../reliability/fuzz/import-files';
import { MODEL_KINDS } from '../reliability/fuzz/model-files';

export interface ReliabilityFigures extends Tally {
  seed: number;
  perKind: Record<string, Tally>;
  seconds: number;
  failures: string[];
}

const ALL_KINDS = [...MODEL_KINDS, ...IMPORT_KINDS, 'templates', 'cli', 'experts'] as const;
type Kind = (typeof ALL_KINDS)[number];

export async function benchReliability(
  options: { seed?: number; perKind?: number; kinds?: readonly Kind[]; verbose?: boolean; log?: (line: string) => void } = {}
): Promise<ReliabilityFigures> {
  const seed = options.seed ?? 20261202;
  const perKind = options.perKind ?? Number(process.env.BENCH_RELIABILITY_CASES ?? 120);
  const log = options.log ?? ((line: string) => process.stderr.write(`[reliability] ${line}\n`));
  process.env.MOCOOP_BACKEND ??= 'wasm';
  await initBackend((process.env.MOCOOP_BACKEND as 'wasm') ?? 'auto');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mocoop-reliability-'));
  const started = performance.now();
  const world = await FuzzWorld.create(root);
  const results: CaseResult[] = [];
  const byKind: Record<string, Tally> = {};
  try {
    for (const kind of options.kinds ?? ALL_KINDS) {
      const mine = await world.run(kind, seed, perKind, (r) => {
        if (options.verbose)
          log(`${r.kind} ${r.name} → ${r.verdict}${r.dataLost ? ' DATA LOST' : ''} (${r.ms.toFixed(0)} ms) ${r.message?.slice(0, 240) ?? ''}`);
      });
      results.push(...mine);
      byKind[kind] = tally(mine);
      log(`${kind}: ${JSON.stringify(byKind[kind])}`);
    }
  } finally {
    world.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  }
  const failures = describeFailures(results).split('\n').filter(Boolean);
  return { seed, ...tally(results), perKind: byKind, seconds: Math.round((performance.now() - started) / 10) / 100, failures };
}

const invoked = process.argv[1] && /reliability\.mts$/.test(process.argv[1]);
if (invoked) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const figures = await benchReliability({
    seed: arg('seed') ? Number(arg('seed')) : undefined,
    perKind: arg('per-kind') ? Number(arg('per-kind')) : undefined,
    kinds: arg('kinds') ? (arg('kinds')!.split(',') as Kind[]) : undefined,
    verbose: process.argv.includes('--verbose')
  });
  process.stdout.write(JSON.stringify(figures, null, 2) + '\n');
  process.exit(0);
}
