/**
 * Who may put what on the results bus. The function emits only its result events under its own `source`; an
 * `MCP Rotation Requested` event starts a run only when its `source` is one of the `requestSources`, and
 * `grantRequestRotation` lets a principal send exactly that event and nothing else.
 */
import type { EventPattern, IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { DEFAULT_REQUEST_SOURCE, DETAIL_TYPE } from '../lambda/constants.ts';

export const DEFAULT_REQUEST_SOURCES: readonly string[] = [DEFAULT_REQUEST_SOURCE];

/** The detail-types the function emits: results and the run summary, never a request. */
export const RESULT_DETAIL_TYPES: readonly string[] = [
  DETAIL_TYPE.rotationResult,
  DETAIL_TYPE.auditResult,
  DETAIL_TYPE.runCompleted,
];

/**
 * Rejects request sources that would let the rotator trigger itself or match nothing: at least one, none equal to
 * the rotator's own `eventSource`, none empty, and none in the `aws.` namespace AWS reserves for its services.
 */
export function checkRequestSources(sources: readonly string[], eventSource: string): string[] {
  const problem = (message: string) => new Error(`Invalid requestSources: ${message}`);
  if (sources.length === 0) throw problem('at least one source is needed, or no request can ever start a run.');
  for (const source of sources) {
    if (source.trim() === '') throw problem('a source is empty.');
    if (source === eventSource) {
      throw problem(`"${source}" is the rotator's own eventSource: its result events must never request a run.`);
    }
    if (source.startsWith('aws.')) throw problem(`"${source}" is reserved for AWS services; PutEvents rejects it.`);
  }
  return [...new Set(sources)];
}

/** `MCP Rotation Requested` from one of the request sources. */
export function rotationRequestedPattern(sources: readonly string[]): EventPattern {
  return { source: [...sources], detailType: [DETAIL_TYPE.rotationRequested] };
}

/** IAM conditions that let `events:PutEvents` through only for entries with one of `sources` and `detailTypes`. */
export function putEventsConditions(
  sources: readonly string[],
  detailTypes: readonly string[],
): Record<string, Record<string, unknown>> {
  return { StringEquals: { 'events:source': [...sources], 'events:detail-type': [...detailTypes] } };
}

/** `events:PutEvents` on `bus`, only for entries with one of `sources` and one of `detailTypes`. */
export function putEventsStatement(
  bus: IEventBus,
  sources: readonly string[],
  detailTypes: readonly string[],
  sid: string,
): PolicyStatement {
  return new PolicyStatement({
    sid,
    actions: ['events:PutEvents'],
    resources: [bus.eventBusArn],
    conditions: putEventsConditions(sources, detailTypes),
  });
}
