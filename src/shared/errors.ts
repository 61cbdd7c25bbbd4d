// The shape every typed error of the firmware shares: a stable string `code`
// that callers and tests match on (never the message), and a message that
// starts with it. Messages name what was wrong, never secrets or payloads.
export class CodedError<Code extends string = string> extends Error {
  readonly code: Code;
  constructor(code: Code, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}
