/**
 * The local stack in a process of its own, for benchmarks: prints one JSON line with its
 * `env`, the seeded secret path and the app role's ARN and credentials, then serves until stdin
 * closes (so it never outlives the benchmark that started it).
 *
 *   node --import tsx test/bench/stack-server.ts
 */
import { startLocalStack } from "../../src/testing/mod.ts";

const stack = await startLocalStack();
const defaults = stack.defaults!;
const credentials = stack.seed.roleCredentials(defaults.roles.app.arn);
process.stdout.write(
  `${
    JSON.stringify({
      env: stack.env,
      secretPath: defaults.secretPath,
      principalArn: defaults.roles.app.arn,
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      },
    })
  }\n`,
);
process.stdin.resume();
process.stdin.on("end", () => void stack.close().then(() => process.exit(0)));
process.stdin.on("close", () => void stack.close().then(() => process.exit(0)));
