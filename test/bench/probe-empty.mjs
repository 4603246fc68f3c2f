// The empty program: a runtime's start-up and exit with nothing to run (import-time.mjs, cold-start.mjs).
