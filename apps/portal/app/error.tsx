'use client';

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div className="error-box" role="alert">
      <p className="error-title">This page could not be shown</p>
      <p>{error.message || 'The server could not answer.'}{error.digest ? ` (reference ${error.digest})` : ''}</p>
      <button className="btn secondary" onClick={reset}>Try again</button>
    </div>
  );
}
