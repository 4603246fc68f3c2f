/**
 * The command `exec` runs in its tests; plain JavaScript, so Node, Bun and Deno run it as is.
 *
 *   env NAME... [-- ARG...]  prints {"env": {"NAME": value or null, ...}, "argv": [ARG, ...]}
 *   exit CODE          exits with CODE
 *   wait-signal CODE N prints "ready", then "got SIGNAL" for each signal; exits with CODE after N of them
 *   wait               prints "ready" and waits, handling no signal
 *   kill SIGNAL        sends itself SIGNAL
 */
import process from "node:process";

const [mode, ...rest] = process.argv.slice(2);
// Ends a fixture the test forgot, rather than leaving it behind.
const giveUp = () => setTimeout(() => process.exit(99), 30_000);

switch (mode) {
  case "env": {
    const end = rest.includes("--") ? rest.indexOf("--") : rest.length;
    const env = Object.fromEntries(rest.slice(0, end).map((name) => [name, process.env[name] ?? null]));
    process.stdout.write(JSON.stringify({ env, argv: rest.slice(end + 1) }));
    break;
  }
  case "exit":
    process.exit(Number(rest[0]));
    break;
  case "wait-signal": {
    let left = Number(rest[1] ?? 1);
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"]) {
      process.on(signal, () => {
        left -= 1;
        process.stdout.write(`got ${signal}\n`, () => left === 0 && process.exit(Number(rest[0])));
      });
    }
    giveUp();
    process.stdout.write("ready\n");
    break;
  }
  case "wait":
    giveUp();
    process.stdout.write("ready\n");
    break;
  case "kill":
    giveUp();
    process.kill(process.pid, rest[0]);
    break;
  default:
    process.stderr.write(`unknown mode ${mode}\n`);
    process.exit(64);
}
