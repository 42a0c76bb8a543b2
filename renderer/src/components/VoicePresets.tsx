// Named presets of the selected voice, inside its card: apply or delete a saved one, or save the current
// settings under a name. The voice's "last used" settings are kept on their own as before; these are the ones
// the user chose to keep.
import { useEffect, useState } from 'react';
import type { VoiceInfo } from '../../../protocol/voices.js';
import type { Store, UiState } from '../store.js';

export function VoicePresets({ store, ui, v }: { store: Store; ui: UiState; v: VoiceInfo }) {
  const presets = ui.host?.namedPresets[v.id] ?? [];
  const [chosen, setChosen] = useState('');
  const [name, setName] = useState('');
  // A chosen preset that was deleted (here or by another client) is no longer chosen.
  useEffect(() => {
    if (chosen && !presets.some((p) => p.name === chosen)) setChosen('');
  }, [chosen, presets]);
  const save = async () => {
    const r = await store.run('savePreset', { name }, 'presetName');
    if (r) {
      setChosen(name.trim());
      setName('');
    }
  };
  return (
    <div className="presets" role="group" aria-label={`Presets of ${v.name}`} data-testid="presets">
      <div className="preset-row">
        <select aria-label="Saved presets" data-testid="preset-select" value={chosen} onChange={(e) => setChosen(e.target.value)}>
          <option value="">{presets.length ? 'Saved presets…' : 'No saved presets'}</option>
          {presets.map((p) => (
            <option key={p.name} value={p.name}>
              {p.name} ({p.settings.pitch > 0 ? '+' : ''}
              {p.settings.pitch} st)
            </option>
          ))}
        </select>
        {/* "Load", not "Apply": the Latency panel's Apply button keeps a name of its own. */}
        <button type="button" className="small" data-testid="preset-apply" aria-label="Load the chosen preset" disabled={!chosen} onClick={() => void store.run('applyPreset', { name: chosen }, 'presetName')}>
          Load
        </button>
        <button type="button" className="small" data-testid="preset-delete" aria-label="Delete the chosen preset" disabled={!chosen} onClick={() => void store.run('deletePreset', { name: chosen }, 'presetName')}>
          ✕
        </button>
      </div>
      <form
        className="preset-row"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <input aria-label="New preset name" data-testid="preset-name" placeholder="Save settings as…" maxLength={40} value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit" className="small" data-testid="preset-save" disabled={!name.trim()}>
          Save
        </button>
      </form>
      {ui.fieldErrors.presetName ? (
        <p className="error" role="alert" data-testid="preset-error">
          {ui.fieldErrors.presetName}
        </p>
      ) : null}
    </div>
  );
}
