/**
 * The local stack in a process of its own, for benchmarks: prints one JSON line with its
 * `env`, the seeded secret path, the app role's ARN and credentials and a valid token, then
 * serves until stdin closes (so it never outlives the benchmark that started it).
 *
 * While it serves, it answers one command per stdin line with one JSON line on stdout:
 * - `log`: the requests answered since the last `log` (service, method, path, status, server
 *   time in ms), and forgets them;
 * - `ping`: `{}`.
 *
 * Options: `--iam-ttl=SECONDS` (the lease of an IAM token, default 3600), for benchmarks that
 * need token refreshes within seconds.
 *
 *   node --import tsx test/bench/stack-server.ts [--iam-ttl=SECONDS]
 */
import { createCerberusClient, kmsAuth, readSecret } from "../../src/core.ts";
import { startLocalStack } from "../../src/testing/mod.ts";

const ttlArg = process.argv.find((a) => a.startsWith("--iam-ttl="));
const iamTokenTtlSeconds = ttlArg ? Number(ttlArg.slice("--iam-ttl=".length)) : 3600;

const stack = await startLocalStack({ cerberus: { iamTokenTtlSeconds }, requestLogCapacity: 2_000_000 });
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
stack.requests.clear();
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

let pending = "";
const stop = () => void stack.close().then(() => process.exit(0));
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  pending += chunk;
  for (let end = pending.indexOf("\n"); end !== -1; end = pending.indexOf("\n")) {
    const command = pending.slice(0, end).trim();
    pending = pending.slice(end + 1);
    if (command === "log") {
      const entries = stack.requests.entries().map(({ service, method, path, status, at }) => ({
        service,
        method,
        path,
        status,
        at,
      }));
      stack.requests.clear();
      process.stdout.write(`${JSON.stringify(entries)}\n`);
    } else {
      process.stdout.write(`${JSON.stringify(command === "ping" ? {} : { error: `unknown command ${command}` })}\n`);
    }
  }
});
process.stdin.on("end", stop);
process.stdin.on("close", stop);
