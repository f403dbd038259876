import Link from 'next/link';

export default function NotFound() {
  return (
    <div className="empty" role="status">
      <p className="empty-title">Not found</p>
      <p>Nothing in the registry has that id. It may have been archived or never existed.</p>
      <Link href="/">Back to the overview</Link>
    </div>
  );
}
