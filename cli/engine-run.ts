/**
 * Runs the engine in this process through the Lambda's own run path (lambda/run-on-aws.ts): the same secrets, state
 * table and event bus, so a local run leaves the same state and the same audit trail, events included.
 */
import { randomUUID } from 'node:crypto';
import { loadConfigFile } from '../lambda/config.ts';
import type { RunOutcome } from '../lambda/engine/run.ts';
import { parseInvocation } from '../lambda/invocation.ts';
import { runOnAws } from '../lambda/run-on-aws.ts';
import { systemClock } from '../lambda/runtime.ts';
import type { Io } from './io.ts';
import { terminalLog } from './log.ts';
import { configPath, createAwsClients, requireTable, type EngineOptions } from './options.ts';
import { progressLine } from './render.ts';

export interface EngineRequest {
  action: 'rotate' | 'audit';
  targets?: string[];
  force?: boolean;
  dryRun?: boolean;
  incidentId?: string;
  reason?: string;
}

export async function runEngine(options: EngineOptions, fields: EngineRequest, io: Io): Promise<RunOutcome> {
  // Everything that can reject the request happens before a client is built or a call is made.
  const config = await loadConfigFile(configPath(options));
  const tableName = requireTable(options);
  const request = parseInvocation({
    ...fields,
    // The same parser as the Lambda's: an incident implies force and never rolls back.
    trigger: 'manual',
    requestedBy: options.requestedBy,
  });

  const clients = await createAwsClients(options);
  const plan = request.dryRun;
  try {
    return await runOnAws({
      clients,
      config,
      request,
      runId: randomUUID(),
      settings: { tableName, busName: options.bus, eventSource: options.eventSource },
      clock: systemClock,
      log: (redactor) => terminalLog(io.err, redactor, options.verbose ?? false),
      onProgress: (result, finished, total) => io.err(progressLine(result, finished, total, { plan })),
    });
  } finally {
    clients.destroy();
  }
}

/** The run summary is the report; an undelivered event is a failure of the run (the audit trail is incomplete). */
export function reportUndelivered(outcome: RunOutcome, options: EngineOptions, io: Io): boolean {
  if (outcome.emitted.failed === 0) return false;
  io.err(
    `error: ${outcome.emitted.failed} result event(s) of run ${outcome.summary.runId} could not be delivered to ` +
      `EventBridge bus "${options.bus}"`,
  );
  return true;
}
