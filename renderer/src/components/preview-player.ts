// One audio element for every voice card's preview: asking for a preview renders it on the host (or finds it
// cached there), then the element plays the WAV the host serves. Only one preview plays at a time; pressing
// the playing card's button again stops it.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { VoicePreview } from '../../../protocol/control.js';
import type { Store } from '../store.js';

export interface PreviewPlayer {
  audio: React.RefObject<HTMLAudioElement | null>;
  playing: string | null;
  rendering: string | null;
  /** The last preview each voice got (render time, cache hit), shown on its card. */
  info: Record<string, VoicePreview>;
  toggle(voice: string): Promise<void>;
}

export const previewErrorKey = (voice: string) => `preview-${voice}`;

export function usePreviewPlayer(store: Store): PreviewPlayer {
  const audio = useRef<HTMLAudioElement>(null);
  const [playing, setPlaying] = useState<string | null>(null);
  const [rendering, setRendering] = useState<string | null>(null);
  const [info, setInfo] = useState<Record<string, VoicePreview>>({});

  useEffect(() => {
    const el = audio.current;
    if (!el) return;
    const stop = () => setPlaying(null);
    el.addEventListener('ended', stop);
    el.addEventListener('pause', stop);
    return () => {
      el.removeEventListener('ended', stop);
      el.removeEventListener('pause', stop);
    };
  }, []);

  const toggle = useCallback(
    async (voice: string) => {
      const el = audio.current;
      if (!el) return;
      if (playing === voice) {
        el.pause();
        return;
      }
      el.pause();
      setRendering(voice);
      const r = await store.run('renderPreview', { voice }, previewErrorKey(voice));
      setRendering(null);
      if (!r) return; // the error is shown on the card
      setInfo((i) => ({ ...i, [voice]: r }));
      el.src = store.client.hostUrl(r.url);
      try {
        await el.play();
        setPlaying(voice);
      } catch (e) {
        // Never silent: a browser that refuses to play says why on the card.
        store.setFieldError(previewErrorKey(voice), `the browser did not play the preview (${(e as Error).message})`);
      }
    },
    [playing, store],
  );

  return { audio, playing, rendering, info, toggle };
}
