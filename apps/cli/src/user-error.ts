/**
 * A failure the user can fix (a file that is not a monitor database, a port in use): the CLI prints its
 * message on one line and exits with 1, without a stack trace. A `MonitorError` it explains is kept as
 * `cause`, so callers branch on its code, never on the message.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}
