import type { ReactNode } from 'react';

/** A page section in a panel, named by its heading; `head` stands beside the heading in the panel's head row. */
export function Panel({ id, title, head, testId, children }: { id: string; title: ReactNode; head?: ReactNode; testId?: string; children: ReactNode }) {
  const heading = <h2 id={id}>{title}</h2>;
  return (
    <section className="panel" aria-labelledby={id} data-testid={testId}>
      {head === undefined ? heading : <div className="panel-head">{heading}{head}</div>}
      {children}
    </section>
  );
}
