import Link from 'next/link';

interface Graph {
  root: string;
  nodes: { id: string; name: string; level: number; maxPositionEmbeddings: number; relation: string }[];
  edges: { id: string; parentId: string; childId: string; kind: string }[];
}

const W = 300, H = 48, GX = 24, GY = 44;

/** How the field names context sizes: 65,536 → "65K", 1,048,576 → "1048K". */
export const contextLabel = (n: number) => (n >= 1000 ? `${Math.floor(n / 1000)}K` : String(n));

/** Generations top to bottom (ancestors above, descendants below); edges labelled with their kind. */
export function LineageGraph({ graph }: { graph: Graph }) {
  const levels = [...new Set(graph.nodes.map((n) => n.level))].sort((a, b) => a - b);
  const pos = new Map<string, { x: number; y: number }>();
  let maxCols = 1;
  for (const [row, level] of levels.entries()) {
    const here = graph.nodes.filter((n) => n.level === level).sort((a, b) => a.name.localeCompare(b.name));
    maxCols = Math.max(maxCols, here.length);
    here.forEach((n, col) => pos.set(n.id, { x: 10 + col * (W + GX), y: 10 + row * (H + GY) }));
  }
  const width = 20 + maxCols * (W + GX) - GX;
  const height = 20 + levels.length * (H + GY) - GY;
  return (
    <svg className="lineage" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label="Model lineage graph">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#8a93a6" />
        </marker>
      </defs>
      {graph.edges.map((e) => {
        const a = pos.get(e.parentId), b = pos.get(e.childId);
        if (!a || !b) return null;
        const x1 = a.x + W / 2, y1 = a.y + H, x2 = b.x + W / 2, y2 = b.y;
        return (
          <g key={e.id}>
            <path d={`M ${x1} ${y1} C ${x1} ${y1 + GY / 2}, ${x2} ${y2 - GY / 2}, ${x2} ${y2}`} fill="none" stroke="#8a93a6" markerEnd="url(#arrow)" />
            <text x={(x1 + x2) / 2 + 8} y={(y1 + y2) / 2 + 4} fill="#5b6170">{e.kind}</text>
          </g>
        );
      })}
      {graph.nodes.map((n) => {
        const p = pos.get(n.id)!;
        const self = n.id === graph.root;
        return (
          <Link key={n.id} href={`/models/${n.id}`}>
            <title>{n.name}</title>
            <rect x={p.x} y={p.y} width={W} height={H} rx={7} fill={self ? '#2f5bd3' : '#fff'} stroke={self ? '#2f5bd3' : '#c9cfdb'} />
            <text x={p.x + 12} y={p.y + 20} fill={self ? '#fff' : '#16181d'} fontWeight={600}>{n.name.length > 40 ? `${n.name.slice(0, 39)}…` : n.name}</text>
            <text x={p.x + 12} y={p.y + 37} fill={self ? '#dfe6fb' : '#5b6170'}>{`${contextLabel(n.maxPositionEmbeddings)} context`}</text>
          </Link>
        );
      })}
    </svg>
  );
}
