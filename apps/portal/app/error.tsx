'use client';

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div role="alert">
      <h1>Something went wrong</h1>
      <p className="sub">{error.message}{error.digest ? ` (reference ${error.digest})` : ''}</p>
      <button className="btn" onClick={reset}>Try again</button>
    </div>
  );
}
