export default function Loading() {
  return (
    <div aria-busy="true" aria-live="polite">
      <p className="sr-only">Loading…</p>
      <div className="skeleton" style={{ height: 28, width: 280, marginBottom: 10 }} />
      <div className="skeleton" style={{ height: 16, width: 420, marginBottom: 24 }} />
      <div className="panel">
        {Array.from({ length: 6 }, (_, i) => <div key={i} className="skeleton" style={{ height: 18, margin: '10px 0' }} />)}
      </div>
    </div>
  );
}
