#!/usr/bin/env node
// Runs the compiled build under dist/ (scripts/build.mjs), rebuilt first when a source file has
// changed since, so start-up costs no TypeScript compilation and an edit is never run stale.
import { compiledEntry } from '../scripts/build.mjs';

process.setSourceMapsEnabled(true); // stack traces (--verbose) name the TypeScript sources
const { main } = await import(await compiledEntry());
process.exitCode = await main(process.argv);
