import { heatmapDrawing, type HeatmapCellRef, type HeatmapDrawing, type SvgNode } from '@ctxlab/contracts';
import { createElement, useId, type MouseEvent, type ReactNode, type Ref, type SVGProps } from 'react';

export interface HeatmapProps extends Omit<HeatmapDrawing, 'uid'> {
  onCellEnter?: (cell: HeatmapCellRef) => void;
  onCellLeave?: () => void;
  onCellClick?: (cell: HeatmapCellRef) => void;
  /** Extra attributes for the <svg> (tabIndex, onKeyDown, aria-*). */
  svgProps?: Omit<SVGProps<SVGSVGElement>, 'ref'>;
  svgRef?: Ref<SVGSVGElement>;
}

function cellFromEvent(e: MouseEvent<SVGElement>): HeatmapCellRef | null {
  const t = e.target as Element | null;
  const x = t?.getAttribute?.('data-x');
  const y = t?.getAttribute?.('data-y');
  return x === null || x === undefined || y === null || y === undefined ? null : { x: Number(x), y: Number(y) };
}

/** React's name of an SVG attribute: stroke-width → strokeWidth; data-* and aria-* as they are. Few names, each worked out once. */
const propNames = new Map<string, string>();
function propName(attr: string): string {
  let name = propNames.get(attr);
  if (name === undefined) {
    name = /^(data|aria)-/.test(attr) ? attr : attr.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    propNames.set(attr, name);
  }
  return name;
}

/** The element tree as React elements; `extra` adds props (handlers, ref) to an element by its data-role, or to the root. */
function toReact(node: SvgNode | string, key: number, extra: (node: SvgNode) => object | undefined): ReactNode {
  if (typeof node === 'string') return node;
  const props: Record<string, unknown> = { key };
  for (const k in node.attrs) {
    const v = node.attrs[k];
    if (v !== undefined) props[propName(k)] = v;
  }
  Object.assign(props, extra(node));
  const { children } = node;
  if (children.length === 0) return createElement(node.tag, props);
  if (children.length === 1) return createElement(node.tag, props, toReact(children[0]!, 0, extra));
  return createElement(node.tag, props, children.map((c, i) => toReact(c, i, extra)));
}

/**
 * The heatmap of `heatmapDrawing` (@ctxlab/contracts) — the very picture the exports and the CLI
 * write as heatmap.svg — rendered with React, with hover, click and a keyboard-focused outline.
 */
export function Heatmap(props: HeatmapProps) {
  const uid = useId().replace(/[^A-Za-z0-9_-]/g, '');
  const { onCellEnter, onCellLeave, onCellClick, svgProps, svgRef, ...drawing } = props;
  const root = heatmapDrawing({ ...drawing, uid });
  const a = props.active;
  const cells = {
    style: onCellEnter || onCellClick ? { cursor: 'pointer' } : undefined,
    onMouseMove: onCellEnter
      ? (e: MouseEvent<SVGElement>) => {
          const c = cellFromEvent(e);
          if (c && (c.x !== a?.x || c.y !== a?.y)) onCellEnter(c);
        }
      : undefined,
    onMouseLeave: onCellLeave ? () => onCellLeave() : undefined,
    onClick: onCellClick
      ? (e: MouseEvent<SVGElement>) => {
          const c = cellFromEvent(e);
          if (c) onCellClick(c);
        }
      : undefined,
  };
  return toReact(root, 0, (node) => (node === root ? { ref: svgRef, ...svgProps } : node.attrs['data-role'] === 'cells' ? cells : undefined));
}
