import type { UserError } from '../worker/protocol.js';

export function ErrorBox({ error, testId, note }: { error: UserError; testId: string; note?: string }) {
  return (
    <div class="error" role="alert" data-testid={testId} data-kind={error.kind}>
      <h2>
        {error.title}
        {error.file !== undefined && <span data-testid="error-file">: {error.file}</span>}
      </h2>
      <p>{error.message}</p>
      {note && <p class="strong">{note}</p>}
      {error.detail && (
        <details>
          <summary>Details</summary>
          <code>{error.detail}</code>
        </details>
      )}
    </div>
  );
}
