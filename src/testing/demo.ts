/**
 * `npm run demo`: runs the demo of `demo-run.ts` against the embedded local stack.
 *
 * @module
 */
import { runDemo } from "./demo-run.ts";

await runDemo();
