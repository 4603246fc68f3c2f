/**
 * The local stack in a process of its own, for benchmarks: prints one JSON line with its
 * `env`, the seeded secret path, the app role's ARN and credentials and a valid token, then
 * serves until stdin closes (so it never outlives the benchmark that started it).
 *
 *   node --import tsx test/bench/stack-server.ts
 */
import { createCerberusClient, kmsAuth, readSecret } from "../../src/core.ts";
import { startLocalStack } from "../../src/testing/mod.ts";

const stack = await startLocalStack();
const defaults = stack.defaults!;
// Ten more secrets the app role may read, for the cache benchmark.
for (let i = 0; i < 10; i++) stack.seed.secret(`app/demo/bench-${i}`, { value: `secret number ${i}` });
const credentials = stack.seed.roleCredentials(defaults.roles.app.arn);
// A token for baselines that call Cerberus without a library, obtained here (in memory).
let token = "";
await readSecret(
  createCerberusClient({
    url: stack.cerberus,
    auth: kmsAuth({
      principalArn: defaults.roles.app.arn,
      credentials,
      region: defaults.region,
      kmsEndpoint: stack.kms,
    }),
    transport: (url, init) => {
      token ||= init.headers["X-Cerberus-Token"] ?? "";
      return stack.transport(url, init);
    },
  }),
  defaults.secretPath,
);
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
      token,
    })
  }\n`,
);
process.stdin.resume();
process.stdin.on("end", () => void stack.close().then(() => process.exit(0)));
process.stdin.on("close", () => void stack.close().then(() => process.exit(0)));
