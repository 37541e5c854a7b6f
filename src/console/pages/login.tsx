// Sign in with an API key; the console keeps a session cookie, never the key.
export function LoginForm({ next, error }: { next: string; error?: string | undefined }) {
  return (
    <form method="post" action="/console/login" class="login">
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <input type="hidden" name="next" value={next} />
      <label>
        API key
        <input type="password" name="key" autocomplete="current-password" required size={50} autofocus />
      </label>
      <p class="muted">A key with the read, operate or admin role. Actions you take are recorded in the ledger under the key's name.</p>
      <button type="submit">Sign in</button>
    </form>
  );
}
