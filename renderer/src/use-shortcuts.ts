// Wires the shortcut table (shortcuts.ts) to the window's key events: commands go to the host through the
// store, push-to-talk to its controller (key-down opens, key-up mutes), "?" to the help list.
import { useEffect } from 'react';
import type { PushToTalk } from './push-to-talk.js';
import { findShortcut, isTyping, keyName, spaceIsFree } from './shortcuts.js';
import type { Store } from './store.js';

export function useShortcuts(store: Store, ptt: PushToTalk): void {
  useEffect(() => {
    const focused = () => document.activeElement as HTMLInputElement | null;
    const down = (e: KeyboardEvent) => {
      const s = findShortcut(e);
      if (!s || isTyping(focused())) return;
      if (e.key === ' ' && !spaceIsFree(focused())) return;
      if (s.action.kind === 'help') {
        if (!e.repeat) store.setUi({ shortcutsOpen: !store.snapshot().shortcutsOpen });
      } else if (s.action.kind === 'push-to-talk') {
        ptt.press(`key:${keyName(e)}`);
      } else if (!e.repeat || s.repeats) {
        const host = store.snapshot().host;
        if (!host) return;
        const c = s.action.run(host);
        void store.run(c.cmd, c.args as never);
      }
      e.preventDefault(); // Space would scroll, "?" and "+" would type into nothing
    };
    // Key-ups are honoured wherever focus went meanwhile: releasing can only mute.
    const up = (e: KeyboardEvent) => {
      const name = keyName({ key: e.key, altKey: false, ctrlKey: false, metaKey: false });
      if (name) ptt.release(`key:${name}`);
    };
    const lost = () => ptt.releaseAll();
    const hidden = () => document.visibilityState === 'hidden' && ptt.releaseAll();
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    window.addEventListener('blur', lost);
    document.addEventListener('visibilitychange', hidden);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
      window.removeEventListener('blur', lost);
      document.removeEventListener('visibilitychange', hidden);
    };
  }, [store, ptt]);
}
