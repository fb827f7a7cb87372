#!/usr/bin/env node
// The `lamarr-energy-tracker` executable.
import { main } from './main.js';
import { handleClosedOutput } from './output.js';

// A reader that closes our output (`| head -1`) ends the command quietly; `run` goes on (its
// command owns stdout).
handleClosedOutput(process.argv[2] !== 'run');

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
