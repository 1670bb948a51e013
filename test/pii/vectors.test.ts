// Public vectors (Presidio, stdnum-js, gitleaks) against our detectors. The vectors are read from the
// shared corpus (../shared/corpus/pii) at test time and converted in memory by convertAll() in
// test/fixtures/pii/convert.ts, which holds our mapping and every exclusion with its reason. Positives must be reported as the right kind, negatives not. Prints precision/recall per
// source. "Reported" means what the scanner keeps: strong candidates, or weak ones with a key hint;
// a candidate marked `example` counts as not reported for negatives.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { corpus, needsCorpus } from '../support/paths.js';
import { detectText, detectValue } from '../../analyzers/pii/index.js';
import type { Candidate } from '../../analyzers/pii/index.js';
import { convertAll } from '../fixtures/pii/convert.js';
import type { Vector } from '../fixtures/pii/convert.js';

const compact = (s: string): string => s.replace(/[\s.\-/]/g, '').toUpperCase();

export function judge(v: Vector): { ok: boolean; why: string } {
  const o = v.defaultCountry !== undefined ? { defaultCountry: v.defaultCountry } : {};
  const cands: Candidate[] = v.mode === 'value' ? detectValue(v.text, v.key, o) : detectText(v.text, v.key, o);
  const reported = cands.filter((c) => c.kind === v.kind && (c.strength === 'strong' || c.keyHint));
  if (v.positive) {
    if (reported.length === 0)
      return {
        ok: false,
        why: `no ${v.kind}; got ${cands.map((c) => c.kind + '/' + c.detector).join(',') || 'nothing'}`,
      };
    for (const e of v.expect) {
      if (!reported.some((c) => compact(c.value) === compact(e))) {
        return { ok: false, why: `expected value not matched (${reported.length} ${v.kind} candidates)` };
      }
    }
    return { ok: true, why: '' };
  }
  const bad = reported.filter((c) => !c.example && (v.detector === undefined || c.detector === v.detector));
  return bad.length === 0
    ? { ok: true, why: '' }
    : { ok: false, why: `reported ${bad.map((c) => c.detector).join(',')}` };
}

describe('public vectors', needsCorpus, () => {
  // Read only when the corpus is there (a skipped suite's body does not run).
  const fixtures = convertAll(corpus());
  for (const name of ['presidio', 'stdnum', 'gitleaks'] as const) {
    test(`public vectors: ${name}`, () => {
      const fx = fixtures[name];
      let tp = 0,
        fn = 0,
        fp = 0,
        tn = 0;
      const failures: string[] = [];
      for (const v of fx.included) {
        const r = judge(v);
        if (v.positive) {
          if (r.ok) tp++;
          else fn++;
        } else if (r.ok) tn++;
        else fp++;
        if (!r.ok)
          failures.push(
            `${v.id} ${v.positive ? 'FN' : 'FP'} ${JSON.stringify(v.text.slice(0, 70))} key=${v.key.join('.')}: ${r.why}`,
          );
      }
      const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
      const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
      const excluded = fx.excluded.reduce((a, e) => a + e.count, 0);
      console.log(
        `# ${name}: ${fx.included.length} vectors (${excluded} excluded in ${fx.excluded.length} groups), tp=${tp} fn=${fn} fp=${fp} tn=${tn} precision=${precision.toFixed(3)} recall=${recall.toFixed(3)} pass=${(((tp + tn) / fx.included.length) * 100).toFixed(1)}%`,
      );
      if (failures.length > 0) console.log(failures.slice(0, 80).join('\n'));
      assert.equal(failures.length, 0, `${failures.length} ${name} vectors failed`);
    });
  }
});
