// check.js - parses PowerShell scripts with the tree-sitter-powershell
// grammar (its WebAssembly build, through web-tree-sitter) and prints, per
// file, one JSON line: the ERROR and MISSING nodes of the parse tree and the
// names of the commands it calls.  Used by tests/scenarios/test_fix_ps.py.
// Usage: node tools/pscheck/check.js FILE...
'use strict';
const fs = require('fs');
const TS = require('web-tree-sitter');

function walk(node, out) {
  if (node.type === 'ERROR' || node.isMissing) {
    out.errors.push({type: node.isMissing ? 'MISSING ' + node.type : 'ERROR', row: node.startPosition.row + 1,
                     column: node.startPosition.column + 1, text: node.text.slice(0, 80)});
  }
  if (node.type === 'command_name') out.commands.push(node.text);
  for (let i = 0; i < node.childCount; i++) walk(node.child(i), out);
}

(async () => {
  await TS.Parser.init();
  const lang = await TS.Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
  const parser = new TS.Parser();
  parser.setLanguage(lang);
  for (const file of process.argv.slice(2)) {
    const tree = parser.parse(fs.readFileSync(file, 'utf8'));
    const out = {file: file, has_error: tree.rootNode.hasError, errors: [], commands: []};
    walk(tree.rootNode, out);
    console.log(JSON.stringify(out));
  }
})().catch((e) => { console.error(e); process.exit(2); });
