import type { UserError } from '../worker/protocol.js';

export function ErrorBox({ error, testId }: { error: UserError; testId: string }) {
  return (
    <div class="error" role="alert" data-testid={testId} data-kind={error.kind}>
      <h2>{error.title}</h2>
      <p>{error.message}</p>
      {error.detail && (
        <details>
          <summary>Details</summary>
          <code>{error.detail}</code>
        </details>
      )}
    </div>
  );
}
