#!/usr/bin/env node
// Validates electron-builder.yml against electron-builder's own JSON schema, and checks that what it
// packages exists: what can be checked without Electron's binary or a network (`electron-builder` itself
// fails offline).
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const yaml = require('js-yaml');
const Ajv = require('ajv');
const config = yaml.load(readFileSync('electron-builder.yml', 'utf8'));
const schema = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
const valid = ajv.validate(schema, config);
const problems = valid ? [] : ajv.errors.map((e) => `${e.instancePath || '/'} ${e.message}`);
const targets = { win: 'nsis', mac: 'dmg', linux: 'AppImage' };
for (const [os, t] of Object.entries(targets)) {
  const list = (config[os]?.target ?? []).map((x) => (typeof x === 'string' ? x : x.target));
  if (!list.includes(t)) problems.push(`${os}: target ${t} missing`);
}
if (!config.linux?.target?.includes('deb')) problems.push('linux: target deb missing');
for (const need of ['onnxruntime-node', 'naudiodon']) if (!config.asarUnpack?.some((p) => p.includes(need))) problems.push(`asarUnpack must include ${need}`);
for (const f of [config.extraMetadata?.main, 'dist/electron/preload.cjs', 'dist/electron/engine-host.js', 'dist/renderer/index.html']) {
  if (f && !existsSync(f)) problems.push(`${f} is missing: run npm run build first`);
}
if (problems.length) {
  console.error(`electron-builder.yml: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('electron-builder.yml: valid against electron-builder\'s schema; targets nsis, dmg, AppImage, deb; native modules unpacked');
