// The shared networks, where a missing one can be fetched: each pitch network the Sound panel's "Pitch
// estimator" menu offers (yin needs none) and each content encoder neural voices use. A missing network is
// marked with what it needs: a download (with its size and SHA-256) where the catalogue has one, else the file
// to place by hand. A download's progress comes from the host as it runs; a network with no published SHA-256
// is fetched only after the user confirms, and the hash of what arrived is shown (and pinned on the host).
import { useState } from 'react';
import type { DownloadProgress, NetworkInfo } from '../../../protocol/models.js';
import type { Store, UiState } from '../store.js';

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
export const modelErrorKey = (id: string) => `model-${id}`;

export function Networks({ store, ui }: { store: Store; ui: UiState }) {
  const models = ui.host?.models ?? [];
  if (!models.length) return null;
  // Pitch networks first: they are what the Sound panel's menu offers.
  const ordered = [...models].sort((a, b) => Number(a.kind !== 'f0') - Number(b.kind !== 'f0'));
  return (
    <div className="networks" role="group" aria-labelledby="networks-h">
      <h3 id="networks-h">Networks</h3>
      <p className="hint">
        Pitch estimators (yin needs none) and the content encoders neural voices need. Built-in voices need none.{' '}
        <button type="button" className="small" data-testid="models-recheck" title="Look in the models folder again (after placing a file by hand)" onClick={() => void store.run('listModels', {})}>
          Check again
        </button>
      </p>
      <ul data-testid="networks">
        {ordered.map((m) => (
          <NetworkRow key={m.id} m={m} store={store} progress={ui.downloads[m.id]} error={ui.fieldErrors[modelErrorKey(m.id)]} busy={Boolean(ui.pending.downloadModel)} />
        ))}
      </ul>
    </div>
  );
}

function statusTag(m: NetworkInfo): { text: string; ready: boolean } {
  if (m.state === 'present') return { text: 'ready', ready: true };
  // Present at the right size; its hash is either not checked yet or, with none published, not pinned.
  if (m.state === 'unverified') return { text: m.sha256 ? 'ready, not checked' : 'ready, not pinned', ready: true };
  if (m.state === 'changed') return { text: 'changed since download', ready: false };
  if (m.state === 'wrong-size') return { text: m.downloadable ? 'incomplete: needs download' : 'wrong file', ready: false };
  return { text: m.downloadable ? 'needs download' : 'needs file', ready: false };
}

function NetworkRow({ m, store, progress, error, busy }: { m: NetworkInfo; store: Store; progress: DownloadProgress | undefined; error: string | undefined; busy: boolean }) {
  const [confirming, setConfirming] = useState(false);
  const tag = statusTag(m);
  const running = progress?.phase === 'downloading';
  const offer = m.downloadable && m.state !== 'present' && m.state !== 'unverified';
  const download = (allowUnverified: boolean) => {
    setConfirming(false);
    void store.run('downloadModel', { id: m.id, ...(allowUnverified ? { allowUnverified } : {}) }, modelErrorKey(m.id));
  };
  return (
    <li className="network" data-model={m.id} data-state={m.state}>
      <div className="network-head">
        <strong>{m.kind === 'f0' ? `Pitch: ${m.id}` : `Encoder: ${m.id}`}</strong>
        <span className={`tag ${tag.ready ? 'tag-ready' : 'tag-needs'}`} data-testid={`model-state-${m.id}`}>
          {tag.text}
        </span>
      </div>
      <p className="facts">
        {m.downloadable ? (
          <>
            {m.size !== null ? mb(m.size) : 'size not published'} · SHA-256{' '}
            {m.sha256 ? <code title="published SHA-256">{m.sha256}</code> : m.pinned ? <>not published; pinned at download: <code data-testid={`model-pin-${m.id}`}>{m.pinned}</code></> : 'not published'}
            {m.partial > 0 && !running ? ` · ${mb(m.partial)} already fetched: the download resumes` : ''}
          </>
        ) : m.state === 'present' ? (
          m.file
        ) : (
          <>No published download: put {m.file} in {m.path.slice(0, m.path.length - m.file.length)}</>
        )}
      </p>
      {running ? (
        <>
          <progress data-testid={`model-progress-${m.id}`} max={progress.total ?? undefined} value={progress.done} aria-label={`Downloading ${m.id}`} />
          <p className="facts">
            {mb(progress.done)}
            {progress.total ? ` of ${mb(progress.total)}` : ''}
          </p>
        </>
      ) : null}
      {progress?.phase === 'done' ? (
        <p className="facts" data-testid={`model-done-${m.id}`}>
          Downloaded{progress.resumedFrom ? ` (resumed at ${mb(progress.resumedFrom)})` : ''}: SHA-256 <code>{progress.sha256}</code> {progress.verified ? 'verified' : 'not verifiable (none published): pinned'}
        </p>
      ) : null}
      {error || progress?.phase === 'failed' ? (
        <p className="error" role="alert" data-testid={`model-error-${m.id}`}>
          {error ?? progress?.message}
        </p>
      ) : null}
      {offer && !running && !confirming ? (
        <button
          type="button"
          className="small"
          data-testid={`model-download-${m.id}`}
          disabled={busy}
          onClick={() => (m.sha256 ? download(false) : setConfirming(true))}
        >
          {m.sha256 ? `Download${m.size ? ` (${mb(m.size)})` : ''}` : 'Download unverified…'}
        </button>
      ) : null}
      {confirming ? (
        <div className="confirm" role="alertdialog" aria-label={`Download ${m.id} unverified?`} data-testid={`model-confirm-${m.id}`}>
          <p>
            Nobody publishes a SHA-256 for {m.file}, so Resona cannot check that the download is the intended file (a corrupted or tampered copy would look
            the same). Resona will show the SHA-256 of what arrives and pin it, so a later change to the file shows.
          </p>
          <div className="row">
            <button type="button" className="small" data-testid={`model-confirm-yes-${m.id}`} onClick={() => download(true)}>
              Download unverified
            </button>
            <button type="button" className="small" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
    </li>
  );
}
