'use client';

import { formatNs, formatNsPrecise } from '../format/time';
import type { CodeView, FilesView } from './api';
import { formatBytes, shortHash } from './format';

/**
 * Files and cache: every path the process touched, sensitive ones first. A sensitive file read
 * through io_uring (the token read of the reference attack) is the row that must stand out.
 */
export function FilesBody({ files }: { files: FilesView }) {
  return (
    <div className="table-scroll">
      <table className="data-table" aria-label="Files">
        <thead>
          <tr>
            <th scope="col">Path</th>
            <th scope="col">Class</th>
            <th scope="col">Op</th>
            <th scope="col">Via</th>
            <th scope="col" className="num">
              Count
            </th>
            <th scope="col" className="num">
              Bytes
            </th>
            <th scope="col">First (UTC)</th>
          </tr>
        </thead>
        <tbody>
          {files.files.map((f) => {
            const alert = f.class !== null && f.viaIoUring;
            return (
              <tr key={`${f.path}\u0000${f.op}\u0000${f.viaIoUring}`} className={alert ? 'inv-row--alert' : f.class !== null ? 'inv-row--sensitive' : undefined} data-path={f.path} data-op={f.op}>
                <td className="mono inv-path" title={f.path}>
                  {f.path}
                </td>
                <td>{f.class ? <span className="badge badge--bad" title={f.classReason ?? ''}>{f.class}</span> : <span className="muted">—</span>}</td>
                <td className="mono">{f.op}</td>
                <td>{f.viaIoUring ? <span className="badge badge--warn">io_uring</span> : <span className="muted">syscall</span>}</td>
                <td className="num mono">{f.count}</td>
                <td className="num mono">{f.op === 'open' ? '—' : formatBytes(f.bytes)}</td>
                <td className="mono nowrap">
                  <time title={formatNsPrecise(f.firstNs)}>{formatNs(f.firstNs)}</time>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {files.findings.length > 0 && (
        <ul className="inv-findings small" aria-label="File findings">
          {files.findings.map((f) => (
            <li key={f.id}>
              <strong>{f.title}</strong> <span className="muted">— {f.reason}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

type CodeModule = CodeView['modules'][number];

/**
 * The module that must stand out: code in another language than the workload's that the process
 * loaded or ran. System and language-runtime libraries (libc, the loader, libnode) are never
 * flagged by the API; they are labelled as such so the analyst can skip them.
 */
function foreignCode(m: CodeModule): boolean {
  return m.differsFromWorkload;
}

/** Code: the executable's and modules' language and build identity; a foreign language is flagged. */
export function CodeBody({ code }: { code: CodeView }) {
  return (
    <>
      {code.workload && (
        <p data-testid="code-workload">
          Workload executable <code>{code.workload.executable}</code>: <strong>{code.workload.languageName}</strong>
          {code.workload.runtime && <span className="muted"> ({code.workload.runtime})</span>}
        </p>
      )}
      {code.provenance && (
        <p className={code.provenance.differs ? 'why inv-why--alert' : 'muted small'} data-testid="code-provenance">
          {code.provenance.reason}
        </p>
      )}
      <div className="table-scroll">
        <table className="data-table" aria-label="Code modules">
          <thead>
            <tr>
              <th scope="col">Module</th>
              <th scope="col">Kind</th>
              <th scope="col">Language</th>
              <th scope="col">Build id</th>
              <th scope="col">sha256</th>
            </tr>
          </thead>
          <tbody>
            {code.modules.map((m) => (
              <tr key={`${m.execId}\u0000${m.path}\u0000${m.sha256 ?? ''}`} className={foreignCode(m) ? 'inv-row--alert' : undefined} data-module={m.path}>
                <td className="mono inv-path" title={m.path}>
                  {m.path}
                </td>
                <td>{m.kind.replace('_', ' ')}</td>
                <td>
                  {m.languageName}
                  {m.runtime && <span className="muted"> ({m.runtime})</span>}
                  {foreignCode(m) && (
                    <span className="badge badge--bad" title={`differs from the workload's ${code.workload?.languageName ?? 'language'}`}>
                      differs from workload
                    </span>
                  )}
                  {m.systemLibrary && <span className="badge badge--muted">system library</span>}
                </td>
                <td className="mono" title={m.buildId ?? ''}>
                  {shortHash(m.buildId)}
                </td>
                <td className="mono" title={m.sha256 ?? ''}>
                  {shortHash(m.sha256)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
