// The keyboard shortcuts list ("?" or the transport's "Keys" button), drawn from the same table the key
// handler uses, so the list cannot disagree with what the keys do.
import { useEffect, useRef } from 'react';
import { SHORTCUTS } from '../shortcuts.js';
import type { Store, UiState } from '../store.js';

export function ShortcutHelp({ store, ui }: { store: Store; ui: UiState }) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!ui.shortcutsOpen) return;
    close.current?.focus();
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && store.setUi({ shortcutsOpen: false });
    window.addEventListener('keydown', esc);
    return () => window.removeEventListener('keydown', esc);
  }, [ui.shortcutsOpen, store]);
  if (!ui.shortcutsOpen) return null;
  return (
    <div className="shortcuts" role="dialog" aria-modal="false" aria-labelledby="shortcuts-title" data-testid="shortcuts">
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <table>
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.label}>
              <th scope="row">
                <kbd>{s.display}</kbd>
              </th>
              <td>{s.label}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">Ignored while you type in a field. In the desktop app, global hotkeys work while other apps have focus (tray → Edit hotkeys).</p>
      <button type="button" ref={close} className="small" onClick={() => store.setUi({ shortcutsOpen: false })}>
        Close
      </button>
    </div>
  );
}
