// The main job on a fresh machine: speak a sentence (espeak-ng), or take the file given, and change the
// voice with a built-in voice through the streaming engine. Usage: npm run demo [-- in.wav [voice]]
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'out');
mkdirSync(outDir, { recursive: true });
let input = process.argv[2];
const voice = process.argv[3] ?? 'deeper';
if (!input) {
  input = path.join(outDir, 'demo-input.wav');
  const said = spawnSync('espeak-ng', ['-w', input, 'Hello! This is Resona, changing my voice with a built-in voice, block by block.'], { stdio: 'inherit' });
  if (said.error || said.status !== 0) {
    console.error('demo: espeak-ng is needed to speak the demo sentence (run scripts/setup.sh), or pass a file: npm run demo -- in.wav');
    process.exit(1);
  }
}
const output = path.join(outDir, `demo-${voice}.wav`);
const r = spawnSync(process.execPath, [path.join(root, 'dist', 'cli', 'resona.js'), 'convert', input, output, '--voice', voice], { stdio: 'inherit' });
process.exit(r.status ?? 1);
