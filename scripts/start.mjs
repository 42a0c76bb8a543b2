#!/usr/bin/env node
// `npm start`: the desktop app where Electron's binary is installed, otherwise server mode in a browser.
// require('electron') from plain Node returns the binary's path only when the binary was downloaded; with
// ELECTRON_SKIP_BINARY_DOWNLOAD it throws, and that is the signal to fall back.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
let electron = null;
try {
  const p = require('electron');
  if (typeof p === 'string' && existsSync(p)) electron = p;
} catch {
  electron = null;
}
const args = process.argv.slice(2);
const child = electron
  ? spawn(electron, [root, ...args], { stdio: 'inherit' })
  : (console.log('resona: Electron is not installed here; starting server mode (open the address below in a browser)'),
    spawn(process.execPath, [path.join(root, 'dist/cli/resona.js'), 'serve', ...args], { stdio: 'inherit' }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
