/** The worst case a started target may take: what the deadline check and the deployed timeout are sized from. */
import { describe, expect, it } from 'vitest';
import { preflightBudgetMs, requestBudgetMs, worstCaseTargetMs } from '../../../lambda/engine/budget.ts';
import { sizeForTargets } from '../../../infra/sizing.ts';
import { DEFAULT_DATAGRID } from '../../../lambda/constants.ts';
import { config, target } from '../../support/engine-harness.ts';

describe('worst-case budget', () => {
  it('adds the secrets calls of delivery secretReference to the PATCH, verification and rollback', () => {
    const byValue = worstCaseTargetMs({ verifyTimeoutSeconds: 60, delivery: 'authorization' }, DEFAULT_DATAGRID);
    const byReference = worstCaseTargetMs({ verifyTimeoutSeconds: 60, delivery: 'secretReference' }, DEFAULT_DATAGRID);
    expect(byValue).toBe(2 * (60_000 + 3 * requestBudgetMs(DEFAULT_DATAGRID)));
    expect(byReference - byValue).toBe(5 * requestBudgetMs(DEFAULT_DATAGRID));
  });

  it('counts the pre-flight only when it is on', () => {
    expect(preflightBudgetMs({ preflight: false, preflightTimeoutSeconds: 30 })).toBe(0);
    expect(preflightBudgetMs({ preflight: true, preflightTimeoutSeconds: 30 })).toBe(30_000);
  });

  it('sizes the deployed timeout with the pre-flight and the delivery mode', () => {
    const plain = sizeForTargets(config([target('srv_1', 'mcp/a', { verifyTimeoutSeconds: 5 })]));
    const guarded = sizeForTargets(
      config([
        target('srv_1', 'mcp/a', {
          verifyTimeoutSeconds: 5,
          preflight: true,
          preflightTimeoutSeconds: 30,
          delivery: 'secretReference',
        }),
      ]),
    );
    expect(guarded.timeoutSeconds - plain.timeoutSeconds).toBe(
      Math.ceil(30 + (5 * requestBudgetMs(DEFAULT_DATAGRID)) / 1000),
    );
  });
});
