export default function Loading() {
  return <p className="sub" aria-live="polite">Loading…</p>;
}
