// Device listing for front ends: starts the audio worker just long enough to ask PortAudio.
import { AudioIO } from '../../native-audio/audio-io.js';
import { formatCatalogue, readCatalogue, virtualCables } from './devices.js';

export async function listDevicesText(json: boolean): Promise<string> {
  const audio = AudioIO.start();
  try {
    const cat = await readCatalogue(audio);
    return json ? JSON.stringify({ ...cat, virtualCables: virtualCables(cat.devices) }, null, 2) : formatCatalogue(cat);
  } finally {
    await audio.stop();
  }
}
