// The voice library: built-in and imported voices, import by file picker or drop, preview images.
import { useRef, useState } from 'react';
import { NOT_A_VOICE_FILE, VOICE_FILE, type VoiceInfo } from '../../../protocol/voices.js';
import type { Store, UiState } from '../store.js';

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
        {voices.map((v) => (
          <VoiceItem key={v.id} v={v} selected={v.id === current} preview={v.preview ? store.client.previewUrl(v.id) : null} onChoose={() => void store.run('setVoice', { voice: v.id })} />
        ))}
      </ul>
      {ui.host?.brokenVoices.length ? <p className="hint">Some library folders could not be read: {ui.host.brokenVoices.join('; ')}</p> : null}
    </section>
  );
}

function VoiceItem({ v, selected, preview, onChoose }: { v: VoiceInfo; selected: boolean; preview: string | null; onChoose: () => void }) {
  return (
    <li id={`voice-${v.id}`} className={selected ? 'selected' : ''}>
      <button type="button" data-voice={v.id} aria-pressed={selected} onClick={onChoose}>
        {preview ? <img src={preview} alt="" width={36} height={36} /> : <span className="avatar" aria-hidden="true">{v.name.slice(0, 1).toUpperCase()}</span>}
        <span className="voice-text">
          <strong>{v.name}</strong>
          <small>
            {v.kind === 'rvc' ? `RVC ${v.sampleRate ? `${v.sampleRate / 1000} kHz` : ''}${v.speakers && v.speakers > 1 ? `, ${v.speakers} speakers` : ''}${v.hasIndex ? ', index' : ''}` : v.description}
          </small>
        </span>
      </button>
    </li>
  );
}
