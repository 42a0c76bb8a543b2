// Start/stop, bypass, mute / push-to-talk, record, and the status badge; the controls a streamer reaches for mid-stream. The badge
// shows the engine's real state (status.ts): a lost device or a restarting engine is never a green "running".
import type { PointerEvent } from 'react';
import type { PushToTalk } from '../push-to-talk.js';
import type { Store, UiState } from '../store.js';
import { engineStatus } from '../status.js';

export function Transport({ store, ui, ptt }: { store: Store; ui: UiState; ptt: PushToTalk }) {
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
      <TalkButton store={store} ui={ui} ptt={ptt} />
      <button
        type="button"
        aria-pressed={ui.pushToTalk}
        data-testid="ptt-mode"
        title="Push-to-talk: muted unless you hold the Talk button, T or Space"
        onClick={() => ptt.setMode(!ui.pushToTalk)}
      >
        Push-to-talk
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
      <button type="button" className="small" data-testid="shortcuts-button" aria-expanded={ui.shortcutsOpen} title="Keyboard shortcuts (?)" onClick={() => store.setUi({ shortcutsOpen: !ui.shortcutsOpen })}>
        Keys
      </button>
      {h?.recording.file ? (
        <span className="hint recording-file" data-testid="recording-file" title={h.recording.file}>
          {h.recording.active ? 'recording to ' : 'saved '}
          {h.recording.file}
        </span>
      ) : null}
    </div>
  );
}

/**
 * "Talk" while the voice goes out, "Muted" while the output is silent. A click toggles mute; in push-to-talk
 * mode the button is held instead (pointer capture keeps the hold when the pointer slides off it).
 */
function TalkButton({ store, ui, ptt }: { store: Store; ui: UiState; ptt: PushToTalk }) {
  const muted = Boolean(ui.host?.selection.muted);
  const hold = ui.pushToTalk;
  const down = (e: PointerEvent<HTMLButtonElement>) => {
    if (!hold || e.button !== 0) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    ptt.press('pointer');
  };
  const up = () => hold && ptt.release('pointer');
  return (
    <button
      type="button"
      className={muted ? 'talk talk-muted' : 'talk talk-open'}
      aria-pressed={muted}
      data-testid="mute"
      title={hold ? 'Hold to talk (or hold T / Space); released, the virtual microphone is silent' : muted ? 'Muted: the virtual microphone carries silence. Click (or M) to talk' : 'Your voice goes out. Click (or M) to mute'}
      onPointerDown={down}
      onPointerUp={up}
      onPointerCancel={up}
      onLostPointerCapture={up}
      onClick={() => !hold && void store.run('setMute', { on: !muted })}
    >
      {muted ? 'Muted' : 'Talk'}
    </button>
  );
}
