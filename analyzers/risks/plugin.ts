// Findings from the inventory and the spec diff (findings.ts) as a plug-in.
import type { AnalyzerPlugin } from '../plugin.js';
import { computeFindings } from './findings.js';

export function createRiskAnalyzer(): AnalyzerPlugin {
  return { name: 'risks', findings: (s) => computeFindings(s) };
}
