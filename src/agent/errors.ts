// Errors of the agent's own composition (configuration, wiring).
export type AgentErrorCode = 'bad-config' | 'flash-range' | 'flash-migration' | 'unsupported';

export class AgentError extends Error {
  override name = 'AgentError';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
  ) {
    super(message);
  }
}
