#!/usr/bin/env node
// The `lamarr-energy-tracker` executable.
import { main } from './main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
