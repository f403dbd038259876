import Link from 'next/link';
import type { ReactNode } from 'react';
import { CardDownloads } from './CardDownloads';
import { PageHead } from './EntityList';
import { ModelCardView, type CardFile } from './ModelCardView';
import { Panel } from './Panel';

/** A model's or an adapter's Hugging Face card: rendered as the Hub shows it, with its files to download. */
export function CardPage(p: { crumbs: [string, string][]; title: string; sub: ReactNode; back: { href: string; label: string }; card: { readme: string; files: CardFile[] } }) {
  return (
    <>
      <PageHead crumbs={p.crumbs} title={p.title} sub={p.sub} actions={<Link className="btn secondary" href={p.back.href}>{p.back.label}</Link>} />
      <Panel id="card-files" title="Files" head={<CardDownloads files={[{ name: 'README.md', content: p.card.readme, mediaType: 'text/markdown' }, ...p.card.files]} />}>
        <p className="panel-note" style={{ margin: 0 }}>Put them together in the Hub repository: the card links its images by file name.</p>
      </Panel>
      <Panel id="card" title="README.md">
        <ModelCardView readme={p.card.readme} files={p.card.files} />
      </Panel>
    </>
  );
}
