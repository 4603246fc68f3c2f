/**
 * The demo (`npm run demo`, `cerberus-edge demo`): the KMS sequence (docs/wire.md#role-discovery-on-ec2) against the embedded local stack, step by step.
 * Starts the stack on 127.0.0.1, runs KMS authentication exactly as on an EC2 instance
 * (only the endpoints point at the stack), reads a secret, and stops every server.
 *
 * @module
 */
import { type CerberusEvent, createCerberusClient, kmsAuth, readSecret } from "../../mod.ts";
import { startLocalStack } from "./serve.ts";

/** Prints one progress event of the flow as a numbered step. */
export function describeEvent(event: CerberusEvent): string | undefined {
  switch (event.type) {
    case "metadata.account":
      return `account ID ${event.accountId} (from ${
        event.source === "iam-info" ? "the instance profile in iam/info" : "the identity document"
      })`;
    case "metadata.roles":
      return `roles found: ${event.roles.join(", ")} (instance profile ${event.instanceProfileArn})`;
    case "metadata.fallback-v1":
      return `IMDSv2 unavailable (${event.reason}); using IMDSv1`;
    case "auth.region":
      return `KMS region ${event.region} (from ${event.source})`;
    case "auth.attempt":
      return `trying ${event.principal} in ${event.region}`;
    case "auth.payload":
      return `  encrypted auth payload received (${event.bytes} base64 characters)`;
    case "kms.decrypt":
      return `  KMS Decrypt succeeded with key ${event.keyId}`;
    case "auth.failure":
      return `  failed: ${event.reason}`;
    case "auth.success":
      return `authenticated as ${event.principal}; token [redacted], policies ${
        event.policies.join(", ") || "(none)"
      }, expires ${event.expiresAt.toISOString()}`;
    case "request.retry":
      return `  retrying ${event.step} (${event.reason})`;
    default:
      return undefined;
  }
}

/** Runs the demo, writing each line with `write` (default: standard output). */
export async function runDemo(write: (line: string) => void = (line) => console.log(line)): Promise<void> {
  const stack = await startLocalStack();
  try {
    const seed = stack.defaults!;
    write(`Local stack on loopback: Cerberus ${stack.cerberus}, KMS ${stack.kms}, IMDS ${stack.imds}`);
    write(`Seeded SDB ${seed.sdb.path} readable by ${seed.roles.app.arn}\n`);
    let step = 0;
    const cerberus = createCerberusClient({
      url: stack.cerberus,
      auth: kmsAuth(),
      // The instance's view of the world: metadata and KMS endpoints point at the stack, and the
      // region comes from the instance identity document as on EC2.
      env: { ...stack.env, AWS_REGION: undefined },
      onEvent: (event) => {
        const text = describeEvent(event);
        if (text) write(text.startsWith("  ") ? `   ${text}` : `${String(++step).padStart(2)}. ${text}`);
      },
    });
    const secret = await readSecret(cerberus, seed.secretPath);
    write(`\nSecret ${seed.secretPath}:`);
    write(JSON.stringify(secret, null, 2));
  } finally {
    await stack.close();
  }
}
