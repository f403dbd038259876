'use client';

import { DataTable, fmtBytes, fmtDate } from '@ctxlab/ui';
import { useState } from 'react';
import { browserApi } from '../lib/client';
import type { Out } from '../lib/types';
import { ErrorCallout, useAction } from './FormErrors';

/** The registry records whose stored files the API hands out links to. */
export type ArtifactOwner = 'datasets' | 'adapters';
type Link = Out['datasets']['download'];

const linkTo = (owner: ArtifactOwner, id: string, file?: string): Promise<Link> =>
  owner === 'datasets' ? browserApi().datasets.download.query({ id, ...(file ? { file } : {}) }) : browserApi().adapters.download.query({ id, ...(file ? { file } : {}) });

/**
 * One stored file, fetched on demand: a pre-signed link (S3) that opens in a new tab and stays
 * shown with its expiry, or — for a file:// artifact, which lives on the server's disk — its path
 * there. A fresh link is asked for on each press, so a page left open never offers a dead one.
 */
export function DownloadButton({ owner, id, file, name }: { owner: ArtifactOwner; id: string; file?: string; name: string }) {
  const { error, busy, run } = useAction();
  const [link, setLink] = useState<Link | null>(null);
  const press = () =>
    run(async () => {
      const l = await linkTo(owner, id, file);
      setLink(l);
      if (l.url) window.open(l.url, '_blank', 'noopener,noreferrer');
    });
  return (
    <span className="download" data-testid="download">
      <button type="button" className="btn small secondary" onClick={press} disabled={busy} aria-label={`Download ${name}`}>
        {busy ? 'Asking…' : 'Download'}
      </button>
      {link?.url && (
        <span className="hint" role="status">
          {' '}<a href={link.url} target="_blank" rel="noopener noreferrer">pre-signed link</a>{link.expiresAt ? `, valid until ${fmtDate(link.expiresAt)} UTC` : ''}
        </span>
      )}
      {link && !link.url && link.path && (
        <span className="hint" role="status" data-testid="download-path">
          {' '}on the server at <code>{link.path}</code>
        </span>
      )}
      {error && <span className="field-error" role="alert"> {error}</span>}
    </span>
  );
}

const short = (sha: string | null) => (sha ? <span className="mono" title={sha}>{sha.slice(0, 12)}…</span> : '—');

/**
 * The files of a stored dataset or adapter with a download for each. They are listed when asked
 * for: listing checks every file's sha256 in the store, which for a large local artifact takes a while.
 */
export function ArtifactFiles({ owner, id, uri, what }: { owner: ArtifactOwner; id: string; uri: string; what: string }) {
  const { error, busy, run } = useAction();
  const [listing, setListing] = useState<Link | null>(null);
  const single = uri.split('/').filter(Boolean).pop() ?? uri;
  return (
    <div data-testid="artifact-files">
      <p className="panel-note">
        Stored at <code>{uri}</code>. {uri.startsWith('s3://') ? 'Each download is a pre-signed link straight to the object store, valid for 15 minutes.' : 'A file:// artifact is on the server’s disk: its path there is shown.'}
      </p>
      {listing === null ? (
        <div className="form-actions">
          <button type="button" className="btn secondary" onClick={() => run(async () => setListing(await linkTo(owner, id)))} disabled={busy}>
            {busy ? 'Listing…' : `List the ${what}’s files`}
          </button>
        </div>
      ) : listing.files.length === 0 ? (
        <p>
          One file, sha256 {short(listing.sha256)}: <DownloadButton owner={owner} id={id} name={single} />
        </p>
      ) : (
        <DataTable
          caption={`Files of the ${what}`}
          dense
          rows={listing.files}
          rowKey={(f) => f.path}
          columns={[
            { header: 'File', rowHeader: true, cell: (f) => <span className="mono">{f.path}</span> },
            { header: 'Size', numeric: true, cell: (f) => fmtBytes(f.size) },
            { header: 'sha256', cell: (f) => short(f.sha256) },
            { header: 'Download', cell: (f) => <DownloadButton owner={owner} id={id} file={f.path} name={f.path} /> },
          ]}
        />
      )}
      <ErrorCallout message={error} />
    </div>
  );
}
