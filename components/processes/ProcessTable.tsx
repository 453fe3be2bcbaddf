import Link from 'next/link';
import type { ProcessView } from '@/server/processes/views';
import { formatArgv, formatContainer, formatExit, formatUser, processHref } from '../format/process';
import { formatNs, formatNsPrecise } from '../format/time';

/** Search results: one row per process image, newest first, each linking to its page. */
export function ProcessTable({ processes }: { processes: readonly ProcessView[] }) {
  return (
    <div className="table-scroll">
      <table className="data-table" aria-label="Processes found">
        <thead>
          <tr>
            <th scope="col">Start (UTC)</th>
            <th scope="col">Node</th>
            <th scope="col">PID</th>
            <th scope="col">Binary</th>
            <th scope="col">Arguments</th>
            <th scope="col">User</th>
            <th scope="col">Container</th>
            <th scope="col">Exit</th>
          </tr>
        </thead>
        <tbody>
          {processes.map((p) => (
            <tr key={p.execId} data-exec-id={p.execId}>
              <td className="mono nowrap">
                <time dateTime={formatNsPrecise(p.startNs)} title={`${formatNsPrecise(p.startNs)} (${p.startNs} ns)`}>
                  {formatNs(p.startNs)}
                </time>
                {p.seeded && (
                  <span className="tag" title="Running when the sensor started: read from /proc, start time at clock-tick precision">
                    seeded
                  </span>
                )}
              </td>
              <td>{p.node}</td>
              <td className="mono num">{p.pid}</td>
              <td className="mono">
                <Link href={processHref(p.execId)} title={`Open ${p.execId}`}>
                  {p.binary || p.comm}
                </Link>
              </td>
              <td className="mono argv" title={formatArgv(p.argv)}>
                {formatArgv(p.argv)}
              </td>
              <td className="mono">{formatUser(p.uid)}</td>
              <td>{formatContainer(p.container)}</td>
              <td className={p.exited && (p.exitCode || p.exitSignal) ? 'bad nowrap' : 'nowrap'}>{formatExit(p)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
