'use client';

import { ErrorState } from '@ctxlab/ui';

export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <ErrorState title="This page could not be shown" message={`${error.message || 'The server could not answer.'}${error.digest ? ` (reference ${error.digest})` : ''}`}>
      <button className="btn secondary" onClick={reset}>Try again</button>
    </ErrorState>
  );
}
