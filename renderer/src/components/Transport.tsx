// Start/stop, bypass, record, and the state line; the controls a streamer reaches for mid-stream.
import type { Store, UiState } from '../store.js';

export function Transport({ store, ui }: { store: Store; ui: UiState }) {
  const h = ui.host;
  const running = Boolean(h?.running);
  const busy = Boolean(h?.busy || ui.pending.start || ui.pending.stop || ui.pending.setVoice);
  const t = ui.telemetry;
  // Stop keeps the devices and the virtual microphone open (silence goes out): say so, so nobody re-routes.
  const state = !ui.connected
    ? 'disconnected'
    : busy
      ? 'starting…'
      : running
        ? (t?.state ?? 'running')
        : h?.devicesOpen
          ? 'stopped · virtual microphone kept (silent)'
          : 'stopped';
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
      <label className="inline" title="While the voice engine restarts after a failure: silence, or your own voice">
        <input
          type="checkbox"
          data-testid="fallback-dry"
          checked={h?.selection.fallback === 'dry'}
          onChange={(e) => void store.run('setFallback', { fallback: e.currentTarget.checked ? 'dry' : 'silence' })}
        />{' '}
        Own voice if the engine fails
      </label>
      <span className={`state state-${state.split(' ')[0]!.replace(/\W/g, '')}`} data-testid="engine-state" role="status">
        {state}
        {h?.selection.bypass ? ' · BYPASS' : ''}
      </span>
      {h?.recording.file ? (
        <span className="hint" data-testid="recording-file">
          {h.recording.active ? 'recording to ' : 'saved '}
          {h.recording.file}
        </span>
      ) : null}
    </div>
  );
}
