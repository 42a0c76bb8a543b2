// Enforces the architecture's import table on the source tree, so a layering slip fails CI instead of
// surfacing later as a CLI that drags in Electron or an engine that cannot run without a device.
// Imports are found with the TypeScript parser (not regexes) so comments, strings and JSX never count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Top-level folder → the other project folders it may import. `null`: anything. */
const FOLDER_RULES: Readonly<Record<string, readonly string[] | null>> = {
  protocol: [],
  engine: ['protocol'],
  models: ['protocol', 'engine'],
  'native-audio': ['protocol'],
  host: ['protocol', 'engine', 'models', 'native-audio'],
  cli: ['host', 'protocol'],
  electron: ['host', 'protocol'],
  renderer: ['protocol'],
  test: null,
  bench: null,
  scripts: null,
};

/** Packages that tie code to one runtime, and the only folder allowed to load each. */
const PACKAGE_HOMES: Readonly<Record<string, string>> = {
  'onnxruntime-node': 'models',
  naudiodon: 'native-audio',
  electron: 'electron',
};
const REACT_PACKAGES = new Set(['react', 'react-dom']);
const SOURCE_EXT = /\.(ts|tsx|mts)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git']);

export type RuleFamily = 'folders' | 'packages' | 'react';

export interface SourceFile {
  /** Repo-relative, '/'-separated, e.g. 'engine/engine.ts'. */
  path: string;
  text: string;
}

export interface Violation {
  family: RuleFamily;
  file: string;
  line: number;
  specifier: string;
  rule: string;
}

interface ImportRef {
  specifier: string;
  line: number;
}

/** Every module specifier a file loads: static, re-export, bare, dynamic, require and createRequire'd require. */
function findImports(file: SourceFile): ImportRef[] {
  const kind = file.path.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, true, kind);
  const requireNames = new Set(['require']);
  const refs: ImportRef[] = [];
  const add = (node: ts.Node | undefined): void => {
    if (node && ts.isStringLiteralLike(node)) {
      refs.push({ specifier: node.text, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 });
    }
  };
  const isCreateRequire = (e: ts.Expression): boolean =>
    ts.isCallExpression(e) &&
    ((ts.isIdentifier(e.expression) && e.expression.text === 'createRequire') ||
      (ts.isPropertyAccessExpression(e.expression) && e.expression.name.text === 'createRequire'));

  // First pass: names bound to createRequire(...) load modules just like `require`.
  const collectRequires = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer && isCreateRequire(node.initializer)) {
      requireNames.add(node.name.text);
    }
    ts.forEachChild(node, collectRequires);
  };
  collectRequires(sf);

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const loads =
        callee.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(callee) && requireNames.has(callee.text)) ||
        isCreateRequire(callee); // createRequire(import.meta.url)('x')
      if (loads) add(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return refs;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Pure: checks in-memory sources against the import table and the package rules. */
export function checkImports(files: readonly SourceFile[]): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    const folder = file.path.split('/')[0]!;
    if (!(folder in FOLDER_RULES)) continue; // root-level files and unlisted folders are outside the table
    const allowed = FOLDER_RULES[folder]!;
    for (const { specifier, line } of findImports(file)) {
      const at = { file: file.path, line, specifier };
      if (specifier.startsWith('.')) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file.path), specifier));
        const targetFolder = target.split('/')[0]!;
        if (targetFolder === '..') {
          out.push({ ...at, family: 'folders', rule: `${folder}/ must not import from outside the repository` });
        } else if (allowed && targetFolder !== folder && !allowed.includes(targetFolder)) {
          const may = allowed.length ? allowed.join(', ') : 'no other project folder';
          out.push({ ...at, family: 'folders', rule: `${folder}/ may import ${may}; not ${targetFolder}/` });
        }
        continue;
      }
      if (!allowed) continue; // test/, bench/, scripts/ may load any package
      const pkg = packageName(specifier);
      const home = PACKAGE_HOMES[pkg];
      if (home !== undefined && home !== folder) {
        out.push({ ...at, family: 'packages', rule: `'${pkg}' may be imported only from ${home}/` });
      }
      if (REACT_PACKAGES.has(pkg) && folder !== 'renderer') {
        out.push({ ...at, family: 'react', rule: `'${pkg}' may be imported only from renderer/` });
      }
    }
  }
  return out;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function readSources(root: string): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (rel: string): void => {
    let entries;
    try {
      entries = readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return; // folders such as electron/ or renderer/ may not exist yet
    }
    for (const e of entries) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory() && !SKIP_DIRS.has(e.name)) walk(child);
      else if (e.isFile() && SOURCE_EXT.test(e.name)) files.push({ path: child, text: readFileSync(path.join(root, child), 'utf8') });
    }
  };
  for (const folder of Object.keys(FOLDER_RULES)) walk(folder);
  return files;
}

const sources = readSources(ROOT);
const violations = checkImports(sources);

function assertNone(family: RuleFamily): void {
  const found = violations.filter((v) => v.family === family);
  const list = found.map((v) => `  ${v.file}:${v.line}  '${v.specifier}'  ${v.rule}`).join('\n');
  assert.equal(found.length, 0, `${found.length} architecture violation(s):\n${list}`);
}

test('architecture: the scan sees the source tree', () => {
  // Guards against a wrong root silently scanning nothing and passing.
  assert.ok(sources.some((f) => f.path === 'engine/engine.ts'), `no engine/engine.ts under ${ROOT}`);
});

test('architecture: folders import only what the layer table allows', () => assertNone('folders'));

test('architecture: onnxruntime-node, naudiodon and electron stay in their own folders', () => assertNone('packages'));

test('architecture: only renderer/ imports react', () => assertNone('react'));

test('architecture: the checker catches violations of every kind', () => {
  const found = checkImports([
    { path: 'engine/stage.ts', text: "import { x } from '../host/x.js';\nexport * from '../protocol/p.js';" },
    { path: 'host/onnx.ts', text: "// import 'electron'\nconst s = 'require(\"naudiodon\")';\nimport * as ort from 'onnxruntime-node';" },
    {
      path: 'cli/run.ts',
      text: [
        "import { createRequire } from 'node:module';",
        'const load = createRequire(import.meta.url);',
        "const ui = load('react');",
        "const m = await import('../engine/engine.js');",
        "export { y } from '../models/y.js';",
        "const a = require('@scope/electron');",
      ].join('\n'),
    },
    { path: 'renderer/app.tsx', text: "import React from 'react';\nexport const A = () => <div>import 'electron'</div>;" },
    { path: 'protocol/p.ts', text: "import type { E } from '../engine/e.js';" },
    { path: 'test/any.ts', text: "import 'onnxruntime-node';\nimport '../electron/main.js';" },
  ]);
  const got = found.map((v) => `${v.family} ${v.file}:${v.line} ${v.specifier}`).sort();
  assert.deepEqual(got, [
    'folders cli/run.ts:4 ../engine/engine.js',
    'folders cli/run.ts:5 ../models/y.js',
    'folders engine/stage.ts:1 ../host/x.js',
    'folders protocol/p.ts:1 ../engine/e.js',
    'packages host/onnx.ts:3 onnxruntime-node',
    'react cli/run.ts:3 react',
  ]);
});
