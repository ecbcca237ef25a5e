#!/usr/bin/env node
'use strict'
// The `port-convention` command of the npm package (`npx port-convention
// check`): the Rust command line itself, run in this process through the
// native addon. No second implementation, no downloaded binary.
const { runCli } = require('../binding.js')

process.exitCode = runCli(['port-convention', ...process.argv.slice(2)])
