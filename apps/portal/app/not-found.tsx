import { EmptyState } from '@ctxlab/ui';
import Link from 'next/link';

export default function NotFound() {
  return (
    <EmptyState title="Not found">
      <p>Nothing in the registry has that id. It may have been archived or never existed.</p>
      <Link href="/">Back to the overview</Link>
    </EmptyState>
  );
}
