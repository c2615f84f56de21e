import path from 'node:path';
import type { Page } from '@playwright/test';
import { repoRoot } from './server';

export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/**
 * axe-core's serious and critical findings on the page as it is now (axe injected from node_modules
 * once per document; the page must allow it: the specs set bypassCSP).
 */
export async function seriousViolations(page: Page, disabledRules: string[] = []): Promise<AxeFinding[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: path.join(repoRoot, 'node_modules', 'axe-core', 'axe.min.js') });
  const violations = await page.evaluate(async (disabled) => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            context: Document,
            options: object
          ) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[]; failureSummary?: string }[] }[] }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'], rules: Object.fromEntries(disabled.map((id) => [id, { enabled: false }])) });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? '',
      help: v.help,
      nodes: v.nodes.slice(0, 6).map((n) => `${n.target.map(String).join(' ')} — ${(n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 240)}`)
    }));
  }, disabledRules);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The findings as lines a failing test prints: rule, impact, what to fix, where. */
export function describeFindings(where: string, findings: AxeFinding[]): string {
  return findings.map((f) => `${where}: ${f.id} (${f.impact}) ${f.help}\n    ${f.nodes.join('\n    ')}`).join('\n');
}
