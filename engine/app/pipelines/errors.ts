// Errors the pipeline surfaces to the CLI, with stable codes (capture_* and input_error mean bad input: exit 2).
export class ReplayError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ReplayError';
  }
}
