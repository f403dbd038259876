import Link from 'next/link';

export default function NotFound() {
  return (
    <>
      <h1>Not found</h1>
      <p className="sub">Nothing in the registry has that id. It may have been archived or never existed.</p>
      <Link href="/">Back to the overview</Link>
    </>
  );
}
