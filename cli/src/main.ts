#!/usr/bin/env node
import { CliError } from "./config/errors.js";
import { buildProgram } from "./program.js";

buildProgram()
  .parseAsync(process.argv)
  .then(() => process.exit(0))
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof CliError ? "" : "isthmus: "}${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof CliError ? err.exitCode : 1);
  });
