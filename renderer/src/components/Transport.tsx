// Start/stop, bypass, record, and the status badge; the controls a streamer reaches for mid-stream. The badge
// shows the engine's real state (status.ts): a lost device or a restarting engine is never a green "running".
import type { Store, UiState } from '../store.js';
import { engineStatus } from '../status.js';

export function Transport({ store, ui }: { store: Store; ui: UiState }) {
  const h = ui.host;
  const running = Boolean(h?.running);
  const busy = Boolean(h?.busy || ui.pending.start || ui.pending.stop || ui.pending.setVoice);
  const status = engineStatus(ui);
  return (
    <div className="transport" role="toolbar" aria-label="Engine">
      <button type="button" className="primary" data-testid="start-stop" disabled={busy || !ui.connected} onClick={() => void store.run(running ? 'stop' : 'start', {})}>
        {running ? 'Stop' : 'Start'}
      </button>
      <button type="button" aria-pressed={Boolean(h?.selection.bypass)} data-testid="bypass" onClick={() => void store.run('setBypass', { on: !h?.selection.bypass })}>
        Bypass
      </button>
      <button
        type="button"
        aria-pressed={Boolean(h?.recording.active)}
        data-testid="record"
        disabled={!running}
        title={running ? 'Record what the virtual microphone gets' : 'Start the voice to record'}
        onClick={() => void store.run(h?.recording.active ? 'stopRecording' : 'startRecording', {})}
      >
        {h?.recording.active ? 'Stop recording' : 'Record'}
      </button>
      <span className={`state state-${status.kind}`} data-testid="engine-state" data-state={status.kind} role="status">
        {status.badge}
      </span>
      {h?.recording.file ? (
        <span className="hint recording-file" data-testid="recording-file" title={h.recording.file}>
          {h.recording.active ? 'recording to ' : 'saved '}
          {h.recording.file}
        </span>
      ) : null}
    </div>
  );
}
