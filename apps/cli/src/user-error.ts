/**
 * A failure the user can fix (a file that is not a monitor database, a port in use): the CLI prints its
 * message on one line and exits with 1, without a stack trace.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}
