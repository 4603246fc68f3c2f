/**
 * The fast unit tests that guard the security-relevant core, in one process (about 3 s), for
 * mutation testing (`npm run mutate`, `.ci/stryker.config.json`): Stryker runs this once per
 * mutant, and a mutant survives when it still exits 0.
 */
import "../test/internal/text.test.ts";
import "../test/internal/endpoint.test.ts";
import "../test/internal/http.test.ts";
import "../test/internal/retry.test.ts";
import "../test/internal/wait.test.ts";
import "../test/internal/cache.test.ts";
import "../test/auth/token-store.test.ts";
import "../test/client/paths.test.ts";
import "../test/client/request.test.ts";
import "../test/runtime/node.test.ts";
import "../test/properties.test.ts";
