// The control surface: transport on top, the voice library on the left, the voice's sound and latency in the
// middle, devices on the right and live read-outs below. Errors with no field go to the banner.
import type { Store } from './store.js';
import { useUi } from './store.js';
import { Devices } from './components/Devices.js';
import { LatencyPanel } from './components/LatencyPanel.js';
import { Processor } from './components/Processor.js';
import { Readouts } from './components/Readouts.js';
import { Transport } from './components/Transport.js';
import { VoiceLibrary } from './components/VoiceLibrary.js';
import { VoiceSettings } from './components/VoiceSettings.js';

export function App({ store }: { store: Store }) {
  const ui = useUi(store);
  return (
    <>
      <a className="skip" href="#main">
        Skip to controls
      </a>
      <header>
        <h1>Resona</h1>
        <Transport store={store} ui={ui} />
      </header>
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
        <LatencyPanel store={store} ui={ui} />
        <Processor store={store} ui={ui} />
        <Devices store={store} ui={ui} />
        <Readouts ui={ui} />
      </main>
    </>
  );
}
