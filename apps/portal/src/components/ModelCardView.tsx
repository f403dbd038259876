import { splitFrontMatter } from '@ctxlab/hub';
import Markdown from 'react-markdown';
import remarkGfm from 'remark-gfm';

export interface CardFile {
  name: string;
  content: string;
  mediaType: string;
}

/**
 * A model card as the Hub shows it: the metadata block, then the Markdown rendered. Raw HTML in the
 * Markdown is not rendered (react-markdown's default), so a description cannot inject markup; the
 * card's own files (heatmap SVGs) are shown from memory as data URLs — an <img> never runs an SVG's
 * scripts — and any other image link is left as text.
 */
export function ModelCardView({ readme, files }: { readme: string; files: readonly CardFile[] }) {
  // ctxlab's own cards always close their front matter; a card without any is all body.
  const { yaml, body } = splitFrontMatter(readme) ?? { yaml: null, body: readme };
  const byName = new Map(files.map((f) => [f.name, f]));
  return (
    <div className="model-card" data-testid="model-card">
      {yaml !== null && (
        <details className="card-meta">
          <summary>Metadata (YAML front matter)</summary>
          <pre className="mono" data-testid="model-card-yaml">{yaml}</pre>
        </details>
      )}
      <div className="markdown">
        <Markdown
          remarkPlugins={[remarkGfm]}
          components={{
            img: ({ src, alt }) => {
              const f = typeof src === 'string' ? byName.get(src.replace(/^\.\//, '')) : undefined;
              if (!f) return <span className="hint">[image: {alt ?? String(src ?? '')}]</span>;
              return <img src={`data:${f.mediaType};charset=utf-8,${encodeURIComponent(f.content)}`} alt={alt ?? f.name} style={{ maxWidth: '100%' }} />;
            },
            table: ({ children }) => (
              <div className="table-scroll">
                <table className="data dense">{children}</table>
              </div>
            ),
          }}
        >
          {body}
        </Markdown>
      </div>
    </div>
  );
}
