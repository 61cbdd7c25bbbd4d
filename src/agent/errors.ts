// Errors of the agent's own composition (configuration, wiring).
export type AgentErrorCode =
  | 'bad-config'
  | 'flash-range'
  /** Stored records could not be moved to a new flash geometry; the old image is kept. */
  | 'flash-migration'
  | 'unsupported'
  /** The random port is not cryptographically strong and the config is not in development mode. */
  | 'weak-random';

export class AgentError extends Error {
  override name = 'AgentError';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
  ) {
    super(message);
  }
}
