// The control surface: transport and status on top, then one screen of panels on a responsive grid (see
// styles.css): the voice library, the voice's sound, the devices, latency and engine settings, and live
// read-outs. A lost device or a restarting engine gets an alert banner under the header; errors with no
// field go to the error banner. The tab title carries the state too (status.ts).
import { useEffect, useMemo } from 'react';
import type { Store } from './store.js';
import { useUi } from './store.js';
import { engineStatus, ROLE_NAMES, type Status } from './status.js';
import { Devices } from './components/Devices.js';
import { LatencyPanel } from './components/LatencyPanel.js';
import { Readouts } from './components/Readouts.js';
import { ShortcutHelp } from './components/ShortcutHelp.js';
import { Transport } from './components/Transport.js';
import { PushToTalk } from './push-to-talk.js';
import { useShortcuts } from './use-shortcuts.js';
import { VoiceLibrary } from './components/VoiceLibrary.js';
import { VoiceSettings } from './components/VoiceSettings.js';

export function App({ store }: { store: Store }) {
  const ui = useUi(store);
  const status = engineStatus(ui);
  const ptt = useMemo(() => new PushToTalk(store), [store]);
  useShortcuts(store, ptt);
  useEffect(() => {
    document.title = status.title;
  }, [status.title]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to controls
      </a>
      <header>
        <h1>Resona</h1>
        <Transport store={store} ui={ui} ptt={ptt} />
      </header>
      <EngineAlert status={status} ui={ui} />
      <ShortcutHelp store={store} ui={ui} />
      {ui.banner.length ? (
        <div className="banner" role="alert" data-testid="banner">
          {ui.banner.map((e, i) => (
            <p key={i}>
              <strong>{e.code === 'device' ? 'Device' : e.code === 'voice' ? 'Voice' : 'Error'}:</strong> {e.message}{' '}
              <button type="button" className="small" onClick={() => store.dismiss(i)} aria-label="Dismiss this message">
                Dismiss
              </button>
            </p>
          ))}
        </div>
      ) : null}
      {!ui.connected ? (
        <div className="banner" role="alert">
          Connecting to the engine…
        </div>
      ) : null}
      <main id="main" tabIndex={-1}>
        <VoiceLibrary store={store} ui={ui} />
        <VoiceSettings store={store} ui={ui} />
        <Devices store={store} ui={ui} />
        <LatencyPanel store={store} ui={ui} />
        <Readouts ui={ui} />
      </main>
    </>
  );
}

/** A lost device or a restarting engine, said in words where nobody misses it; gone when it is over. */
function EngineAlert({ status, ui }: { status: Status; ui: ReturnType<typeof useUi> }) {
  if (status.recovering) {
    return (
      <div className="banner banner-warn" role="alert" data-testid="engine-banner">
        <strong>The voice engine is restarting after a failure.</strong>{' '}
        {status.recovering === 'dry' ? 'Your own voice goes out until it is back.' : 'The output is silent until it is back (turn on “Own voice while the engine restarts” to pass your voice through).'}
      </div>
    );
  }
  if (!status.lost.length) return null;
  const names = ui.devices ? [...ui.devices.inputs, ...ui.devices.outputs] : [];
  return (
    <div className="banner banner-warn" role="alert" data-testid="device-banner">
      {status.lost.map((r) => {
        const spec = ui.telemetry?.devices[r] ?? ui.host?.selection.devices[r] ?? null;
        const label = names.find((c) => c.spec === spec)?.label ?? spec ?? 'the system default';
        return (
          <p key={r}>
            <strong>{ROLE_NAMES[r]} lost:</strong> “{label}” is gone. Resona resumes on its own when it comes back, or{' '}
            <button type="button" className="small" onClick={() => document.getElementById(`dev-${r}`)?.focus()}>
              choose another {ROLE_NAMES[r].toLowerCase()}
            </button>
          </p>
        );
      })}
    </div>
  );
}
