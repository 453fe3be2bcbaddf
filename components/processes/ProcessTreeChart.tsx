'use client';

import { useRouter } from 'next/navigation';
import { useMemo } from 'react';
import { EChart, type ChartClick } from '@/components/charts/EChart';
import type { ChartOption } from '@/components/charts/echarts';
import { processHref } from '../format/process';
import type { ProcessTreeNode } from './processTree';

const ROLE_COLORS: Record<ProcessTreeNode['role'], string> = {
  ancestor: '#6b7a90',
  self: '#f5a524',
  child: '#4aa3ff',
  fork: '#8c6bd6',
};

interface ChartNode {
  name: string;
  execId: string | null;
  description: string;
  itemStyle: { color: string; borderColor: string };
  label?: { fontWeight: 'bold' };
  children: ChartNode[];
}

/** `root` is already a tree (built with a visited set), so this recursion ends. */
function toChartNode(node: ProcessTreeNode): ChartNode {
  return {
    name: node.label,
    execId: node.execId,
    description: node.description,
    itemStyle: { color: ROLE_COLORS[node.role], borderColor: ROLE_COLORS[node.role] },
    ...(node.role === 'self' ? { label: { fontWeight: 'bold' as const } } : {}),
    children: node.children.map(toChartNode),
  };
}

function leafCount(node: ProcessTreeNode): number {
  return node.children.length === 0 ? 1 : node.children.reduce((sum, c) => sum + leafCount(c), 0);
}

/** The process tree drawn; selecting a process opens its page. */
export function ProcessTreeChart({ root }: { root: ProcessTreeNode }) {
  const router = useRouter();
  const option = useMemo<ChartOption>(
    () => ({
      backgroundColor: 'transparent',
      tooltip: {
        trigger: 'item',
        confine: true,
        formatter: (params: unknown) => {
          const data = (params as { data?: ChartNode }).data;
          // Plain text only: the tooltip is HTML and process arguments are attacker-controlled.
          return data ? escapeHtml(`${data.name}\n${data.description}`).replace(/\n/g, '<br>') : '';
        },
      },
      series: [
        {
          type: 'tree',
          data: [toChartNode(root)],
          orient: 'LR',
          top: 16,
          bottom: 16,
          left: 120,
          right: 220,
          symbolSize: 10,
          initialTreeDepth: -1,
          expandAndCollapse: false,
          roam: true,
          // Long names are cut in the chart (the list below has them whole).
          label: { position: 'top', color: '#d8dee9', fontFamily: 'ui-monospace, monospace', fontSize: 12, width: 96, overflow: 'truncate' },
          leaves: { label: { position: 'right', align: 'left', verticalAlign: 'middle', width: 200, overflow: 'truncate' } },
          lineStyle: { color: '#4c566a', width: 1.2 },
        },
      ],
    }),
    [root],
  );

  function open(event: ChartClick) {
    const execId = (event.data as Partial<ChartNode> | undefined)?.execId;
    if (execId) router.push(processHref(execId));
  }

  return (
    <EChart
      option={option}
      onItemClick={open}
      ariaLabel="Process tree chart (the same tree is listed below as text)"
      className="tree-chart"
      style={{ height: Math.min(720, Math.max(220, leafCount(root) * 32 + 60)) }}
    />
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
