'use client';

import { useEffect, useState } from 'react';
import type { CardFile } from './ModelCardView';

/** Each file of a card as a download link, made in the browser from what the page already holds (no second request, nothing proxied). */
export function CardDownloads({ files }: { files: readonly CardFile[] }) {
  const [urls, setUrls] = useState<string[]>([]);
  useEffect(() => {
    const made = files.map((f) => URL.createObjectURL(new Blob([f.content], { type: f.mediaType })));
    setUrls(made);
    return () => made.forEach((u) => URL.revokeObjectURL(u));
  }, [files]);
  return (
    <span className="btn-group" data-testid="card-downloads">
      {files.map((f, i) => (
        <a key={f.name} className="btn small secondary" href={urls[i]} download={f.name} aria-disabled={!urls[i]}>
          {f.name}
        </a>
      ))}
    </span>
  );
}
