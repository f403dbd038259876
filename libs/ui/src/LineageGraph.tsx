import { useId } from 'react';
import { contextLabel } from './format';

export interface LineageNode {
  id: string;
  name: string;
  /** Generation relative to the model in focus: ancestors negative, descendants positive. */
  level: number;
  maxPositionEmbeddings: number;
  ropeTheta?: number;
  relation: 'self' | 'ancestor' | 'descendant' | string;
  archived?: boolean;
}

export interface LineageEdge {
  id: string;
  parentId: string;
  childId: string;
  kind: string;
  /** The job that produced the child, when recorded. */
  jobId?: string | null;
}

export interface LineageGraphProps {
  graph: { root: string; nodes: readonly LineageNode[]; edges: readonly LineageEdge[] };
  modelHref: (id: string) => string;
  jobHref?: (id: string) => string;
}

export const LINEAGE_KIND_COLORS: Record<string, string> = {
  'context-extension': '#2f5bd3',
  finetune: '#6b3fc9',
  'lora-extract': '#a8560b',
  'lora-merge': '#08795a',
  quantize: '#5b6170',
};
const kindColor = (k: string) => LINEAGE_KIND_COLORS[k] ?? '#5b6170';

/** Layout in SVG units: a node's box (W × H), the gaps between boxes across (GX) and down (GY), the margin, the legend's height. */
const W = 272, H = 52, GX = 28, GY = 70, PAD = 12, LEGEND = 30;

function compactTheta(t: number): string {
  if (t >= 1e9) return `${(t / 1e9).toFixed(t >= 1e10 ? 0 : 2)}B`;
  if (t >= 1e6) return `${(t / 1e6).toFixed(t >= 1e7 ? 0 : 1)}M`;
  if (t >= 1e3) return `${Math.round(t / 1e3)}K`;
  return String(t);
}

/**
 * Placement: one row per generation (ancestors above, descendants below), each row ordered by
 * the mean position of its parents so edges cross as little as a simple layered layout allows.
 */
export function layoutLineage(graph: LineageGraphProps['graph']) {
  const levels = [...new Set(graph.nodes.map((n) => n.level))].sort((a, b) => a - b);
  const parents = new Map<string, string[]>();
  for (const e of graph.edges) parents.set(e.childId, [...(parents.get(e.childId) ?? []), e.parentId]);
  const col = new Map<string, number>();
  const rows: LineageNode[][] = [];
  for (const level of levels) {
    const here = graph.nodes.filter((n) => n.level === level);
    const bary = (n: LineageNode) => {
      const ps = (parents.get(n.id) ?? []).map((p) => col.get(p)).filter((v): v is number => v !== undefined);
      return ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : Number.POSITIVE_INFINITY;
    };
    here.sort((a, b) => bary(a) - bary(b) || a.name.localeCompare(b.name));
    here.forEach((n, i) => col.set(n.id, i));
    rows.push(here);
  }
  const maxCols = Math.max(1, ...rows.map((r) => r.length));
  const width = PAD * 2 + maxCols * W + (maxCols - 1) * GX;
  const pos = new Map<string, { x: number; y: number }>();
  rows.forEach((r, row) => {
    const rowWidth = r.length * W + (r.length - 1) * GX;
    const x0 = (width - rowWidth) / 2;
    r.forEach((n, i) => pos.set(n.id, { x: x0 + i * (W + GX), y: LEGEND + PAD + row * (H + GY) }));
  });
  const height = LEGEND + PAD * 2 + rows.length * H + Math.max(0, rows.length - 1) * GY;
  return { pos, width, height };
}

/** A model's ancestors and descendants as a layered graph; edges carry their kind and link to the job that made them. */
export function LineageGraph({ graph, modelHref, jobHref }: LineageGraphProps) {
  const uid = useId().replace(/[^A-Za-z0-9_-]/g, '');
  const { pos, width, height } = layoutLineage(graph);
  const kinds = [...new Set(graph.edges.map((e) => e.kind))].sort();
  const marker = (k: string) => `lg-arrow-${uid}-${k}`;
  const self = graph.nodes.find((n) => n.id === graph.root);
  return (
    <svg
      xmlns="http://www.w3.org/2000/svg"
      className="lineage"
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      role="img"
      aria-label={`Lineage of ${self?.name ?? 'the model'}: ${graph.nodes.length} models, ${graph.edges.length} edges`}
      fontFamily="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
      fontSize={12}
      data-testid="lineage-graph"
    >
      <defs>
        {kinds.map((k) => (
          <marker key={k} id={marker(k)} viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill={kindColor(k)} />
          </marker>
        ))}
      </defs>
      <g data-role="legend">
        {kinds.map((k, i) => (
          <g key={k} transform={`translate(${PAD + i * 150}, 10)`}>
            <line x1={0} y1={6} x2={22} y2={6} stroke={kindColor(k)} strokeWidth={2} />
            <text x={28} y={10} fill="#3d4350">{k}</text>
          </g>
        ))}
      </g>
      {graph.edges.map((e) => {
        const a = pos.get(e.parentId);
        const b = pos.get(e.childId);
        if (!a || !b) return null;
        const x1 = a.x + W / 2;
        const y1 = a.y + H;
        const x2 = b.x + W / 2;
        const y2 = b.y;
        const mx = (x1 + x2) / 2;
        const my = (y1 + y2) / 2;
        const label = e.jobId ? `${e.kind} · job ↗` : e.kind;
        const lw = label.length * 6.4 + 12;
        const body = (
          <>
            <rect x={mx - lw / 2} y={my - 10} width={lw} height={20} rx={10} fill="#ffffff" stroke={kindColor(e.kind)} strokeWidth={1} />
            <text x={mx} y={my + 4} textAnchor="middle" fill={kindColor(e.kind)} fontSize={11} fontWeight={600}>{label}</text>
          </>
        );
        return (
          <g key={e.id} data-kind={e.kind}>
            <path d={`M ${x1} ${y1} C ${x1} ${y1 + GY / 2}, ${x2} ${y2 - GY / 2}, ${x2} ${y2}`} fill="none" stroke={kindColor(e.kind)} strokeWidth={1.6} markerEnd={`url(#${marker(e.kind)})`} />
            {e.jobId && jobHref ? (
              <a href={jobHref(e.jobId)} aria-label={`${e.kind}: job ${e.jobId}`}>
                <title>{`produced by job ${e.jobId}`}</title>
                {body}
              </a>
            ) : (
              body
            )}
          </g>
        );
      })}
      {graph.nodes.map((n) => {
        const p = pos.get(n.id);
        if (!p) return null;
        const isSelf = n.id === graph.root;
        const name = n.name.length > 38 ? `${n.name.slice(0, 37)}…` : n.name;
        return (
          <a key={n.id} href={modelHref(n.id)} data-node={n.name} aria-label={`${n.name}, ${n.relation}`}>
            <title>{n.name}</title>
            <rect
              x={p.x}
              y={p.y}
              width={W}
              height={H}
              rx={8}
              fill={isSelf ? '#2f5bd3' : '#ffffff'}
              stroke={isSelf ? '#2f5bd3' : n.relation === 'ancestor' ? '#8a93a6' : '#b9c3d6'}
              strokeWidth={1.2}
              strokeDasharray={n.archived ? '4 3' : undefined}
            />
            <text x={p.x + 12} y={p.y + 21} fill={isSelf ? '#ffffff' : '#16181d'} fontWeight={600}>{name}</text>
            <text x={p.x + 12} y={p.y + 39} fill={isSelf ? '#e3e9fb' : '#4d5361'}>
              {`${contextLabel(n.maxPositionEmbeddings)} context${n.ropeTheta ? ` · θ ${compactTheta(n.ropeTheta)}` : ''}${n.archived ? ' · archived' : ''}`}
            </text>
          </a>
        );
      })}
    </svg>
  );
}
