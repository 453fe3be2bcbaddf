import Link from 'next/link';
import { processHref } from '../format/process';
import type { ProcessTreeNode } from './processTree';

/**
 * The process tree as nested lists: what screen readers, keyboard users and tests read (the
 * chart is a canvas). Same nodes, same order as the chart.
 */
export function ProcessTreeList({ root }: { root: ProcessTreeNode }) {
  return (
    <ul role="tree" aria-label="Process tree" className="tree-list">
      <TreeItem node={root} level={1} />
    </ul>
  );
}

function TreeItem({ node, level }: { node: ProcessTreeNode; level: number }) {
  return (
    <li
      role="treeitem"
      aria-level={level}
      aria-expanded={node.children.length > 0 ? true : undefined}
      aria-current={node.role === 'self' ? 'page' : undefined}
      aria-selected={node.role === 'self'}
      data-role={node.role}
      data-pid={node.pid}
    >
      <span className={`tree-list__item tree-list__item--${node.role}`}>
        {node.execId && node.role !== 'self' ? (
          <Link href={processHref(node.execId)} className="mono">
            {node.label}
          </Link>
        ) : (
          <span className="mono">{node.label}</span>
        )}{' '}
        <span className="tree-list__description clamp" title={node.description}>
          {node.description}
        </span>
      </span>
      {node.children.length > 0 && (
        <ul role="group">
          {node.children.map((child) => (
            <TreeItem key={child.key} node={child} level={level + 1} />
          ))}
        </ul>
      )}
    </li>
  );
}
