// The voice library: built-in and imported voices as cards (choose, star, hear a preview; the chosen voice's
// card holds its named presets), favourites first; import by file picker or drop.
import { useRef, useState } from 'react';
import type { VoicePreview } from '../../../protocol/control.js';
import { NOT_A_VOICE_FILE, VOICE_FILE, type VoiceInfo } from '../../../protocol/voices.js';
import type { Store, UiState } from '../store.js';
import { type PreviewPlayer, previewErrorKey, usePreviewPlayer } from './preview-player.js';
import { VoicePresets } from './VoicePresets.js';

const ACCEPT = '.onnx,.pth,.pt,.zip';

async function toBase64(f: File): Promise<string> {
  const bytes = new Uint8Array(await f.arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function VoiceLibrary({ store, ui }: { store: Store; ui: UiState }) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const voices = ui.host?.voices ?? [];
  const current = ui.host?.selection.voice;
  const importing = Boolean(ui.pending.importVoice);
  const player = usePreviewPlayer(store);
  const favourites = new Set(ui.host?.favourites ?? []);
  // Favourites first, each group in the library's own order (sort is stable).
  const ordered = [...voices].sort((a, b) => Number(favourites.has(b.id)) - Number(favourites.has(a.id)));
  // A neural voice cannot run (nor be previewed) without a content encoder: say so on its card.
  const encoderReady = (ui.host?.models ?? []).some((m) => m.kind === 'content-encoder' && (m.state === 'present' || m.state === 'unverified'));

  const importFile = async (f: File | undefined) => {
    if (!f) return;
    // Refused here as well as on the host, so a wrong file costs no upload.
    if (!VOICE_FILE.test(f.name)) {
      store.setFieldError('file', `"${f.name}" ${NOT_A_VOICE_FILE}`);
      return;
    }
    store.setFieldError('file', null);
    await store.run('importVoice', { name: f.name, dataBase64: await toBase64(f) }, 'file');
  };

  return (
    <section aria-labelledby="voices-h" className="panel voices">
      <h2 id="voices-h">Voices</h2>
      <div
        className={`drop${over ? ' over' : ''}${ui.fieldErrors.file ? ' invalid' : ''}`}
        data-testid="drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void importFile(e.dataTransfer.files[0]);
        }}
      >
        <p>Drop an RVC voice (.onnx, .pth, .zip) here, or</p>
        <button type="button" onClick={() => input.current?.click()} disabled={importing}>
          {importing ? 'Importing…' : 'Import a voice…'}
        </button>
        <input
          ref={input}
          type="file"
          accept={ACCEPT}
          hidden
          data-testid="import-input"
          onChange={(e) => {
            void importFile(e.target.files?.[0]);
            e.target.value = '';
          }}
        />
        {ui.fieldErrors.file ? (
          <p className="error" role="alert" data-testid="import-error">
            {ui.fieldErrors.file}
          </p>
        ) : null}
      </div>
      <ul className="voice-list" aria-label="Voice">
        {ordered.map((v) => (
          <VoiceCard
            key={v.id}
            v={v}
            selected={v.id === current}
            favourite={favourites.has(v.id)}
            needsEncoder={v.kind === 'rvc' && !encoderReady}
            image={v.preview ? store.client.previewUrl(v.id) : null}
            player={player}
            error={ui.fieldErrors[previewErrorKey(v.id)]}
            onChoose={() => void store.run('setVoice', { voice: v.id })}
            onStar={() => void store.run('setFavourite', { voice: v.id, on: !favourites.has(v.id) })}
          >
            {v.id === current ? <VoicePresets store={store} ui={ui} v={v} /> : null}
          </VoiceCard>
        ))}
      </ul>
      <audio ref={player.audio} preload="none" data-testid="preview-audio" hidden />
      {ui.host?.brokenVoices.length ? <p className="hint">Some library folders could not be read: {ui.host.brokenVoices.join('; ')}</p> : null}
    </section>
  );
}

interface CardProps {
  v: VoiceInfo;
  selected: boolean;
  favourite: boolean;
  needsEncoder: boolean;
  image: string | null;
  player: PreviewPlayer;
  error: string | undefined;
  onChoose: () => void;
  onStar: () => void;
  children: React.ReactNode;
}

function VoiceCard({ v, selected, favourite, needsEncoder, image, player, error, onChoose, onStar, children }: CardProps) {
  const playing = player.playing === v.id;
  const rendering = player.rendering === v.id;
  const info = player.info[v.id];
  return (
    <li id={`voice-${v.id}`} className={`card${selected ? ' selected' : ''}`} data-card={v.id}>
      <div className="card-main">
        <button type="button" className="choose" data-voice={v.id} aria-pressed={selected} onClick={onChoose}>
          {image ? <img src={image} alt="" width={36} height={36} /> : <span className="avatar" aria-hidden="true">{v.name.slice(0, 1).toUpperCase()}</span>}
          <span className="voice-text">
            <strong>{v.name}</strong>
            <small>{playing || rendering ? previewLine(rendering, info) : describe(v)}</small>
          </span>
        </button>
        <button type="button" className="icon star" data-testid={`fav-${v.id}`} aria-pressed={favourite} aria-label={`Favourite: ${v.name}`} title={favourite ? 'A favourite: listed first' : 'Star to list it first'} onClick={onStar}>
          {favourite ? '★' : '☆'}
        </button>
        <button
          type="button"
          className="icon play"
          data-testid={`play-${v.id}`}
          aria-pressed={playing}
          aria-label={`${playing ? 'Stop' : 'Play'} a preview of ${v.name}`}
          title="A short phrase spoken through this voice with its settings"
          disabled={rendering}
          onClick={() => void player.toggle(v.id)}
        >
          {rendering ? '…' : playing ? '■' : '▶'}
        </button>
      </div>
      {needsEncoder ? (
        <p className="hint needs" data-testid={`needs-${v.id}`}>
          Needs a content encoder: download one under Networks.
        </p>
      ) : null}
      {error ? (
        <p className="error" role="alert" data-testid={`preview-error-${v.id}`}>
          {error}
        </p>
      ) : null}
      {children}
    </li>
  );
}

function describe(v: VoiceInfo): string {
  return v.kind === 'rvc' ? `RVC ${v.sampleRate ? `${v.sampleRate / 1000} kHz` : ''}${v.speakers && v.speakers > 1 ? `, ${v.speakers} speakers` : ''}${v.hasIndex ? ', index' : ''}` : v.description;
}

/** While a preview renders or plays, the card's second line says so, with what it cost. */
function previewLine(rendering: boolean, info: VoicePreview | undefined): string {
  if (rendering || !info) return 'rendering a preview…';
  return `preview ${(info.durationMs / 1000).toFixed(1)} s · ${info.cached ? 'cached' : `rendered in ${info.renderMs} ms`}`;
}
