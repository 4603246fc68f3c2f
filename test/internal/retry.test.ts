/**
 * src/internal/retry.ts: exponential back-off with full jitter, on the injected clock.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { retry, type RetryOptions, type RetryPolicy } from "../../src/internal/retry.ts";
import { ManualClock } from "../../src/testing/mod.ts";
import { rejection } from "./_helpers.ts";

class Retryable extends Error {}
class Fatal extends Error {}
class Aborted extends Error {}

const policy: RetryPolicy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 300 };

function harness(extra: Partial<RetryOptions> = {}) {
  const clock = new ManualClock({ start: 0 });
  const retries: { attempt: number; delayMs: number; error: unknown }[] = [];
  const options: RetryOptions = {
    clock,
    aborted: (reason) => new Aborted(String(reason)),
    retryable: (error) => error instanceof Retryable,
    onRetry: (attempt, delayMs, error) => retries.push({ attempt, delayMs, error }),
    random: () => 0.5,
    ...extra,
  };
  return { clock, retries, options };
}

describe("retry", () => {
  it("returns the first success without waiting", async () => {
    const { clock, retries, options } = harness();
    const seen: number[] = [];
    assert.equal(await retry((n) => (seen.push(n), Promise.resolve("ok")), policy, options), "ok");
    assert.deepEqual(seen, [1]);
    assert.equal(retries.length, 0);
    assert.equal(clock.pending, 0);
  });

  it("makes exactly `attempts` attempts, numbered from 1, and rethrows the last failure", async () => {
    const { clock, retries, options } = harness();
    const seen: number[] = [];
    const failures: Error[] = [];
    const pending = retry(
      (n) => {
        seen.push(n);
        const failure = new Retryable(`attempt ${n}`);
        failures.push(failure);
        return Promise.reject(failure);
      },
      policy,
      options,
    );
    const error = await rejection(clock.settle(pending, 50));
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    assert.equal(error, failures[4]);
    assert.deepEqual(retries.map((r) => r.attempt), [1, 2, 3, 4]);
    assert.deepEqual(retries.map((r) => r.error), failures.slice(0, 4));
  });

  it("succeeds on a later attempt", async () => {
    const { clock, options } = harness();
    const pending = retry(
      (n) => {
        if (n < 3) return Promise.reject(new Retryable());
        return Promise.resolve(n);
      },
      policy,
      options,
    );
    assert.equal(await clock.settle(pending, 50), 3);
  });

  it("full jitter: random() = 0 retries at once (every delay 0)", async () => {
    const { clock, retries, options } = harness({ random: () => 0 });
    let calls = 0;
    const pending = rejection(retry(
      () => {
        calls++;
        return Promise.reject(new Retryable());
      },
      policy,
      options,
    ));
    await clock.advance(0);
    assert.ok((await pending) instanceof Retryable);
    assert.equal(calls, 5);
    assert.deepEqual(retries.map((r) => r.delayMs), [0, 0, 0, 0]);
    assert.equal(clock.now(), 0);
  });

  for (
    const [random, expected] of [
      [0.5, [50, 100, 150, 150]],
      [0.999999, [100, 200, 300, 300]],
    ] as const
  ) {
    it(`full jitter: random() = ${random} gives delays ${expected.join(", ")} (ceilings 100, 200, 300 capped)`, async () => {
      const { clock, retries, options } = harness({ random: () => random });
      let calls = 0;
      const pending = rejection(retry(
        () => {
          calls++;
          return Promise.reject(new Retryable());
        },
        policy,
        options,
      ));
      await clock.advance(0);
      for (const [i, delay] of expected.entries()) {
        assert.equal(calls, i + 1);
        assert.equal(retries[i]?.delayMs, delay);
        await clock.advance(delay - 1);
        assert.equal(calls, i + 1, `attempt ${i + 2} not before ${delay} ms`);
        await clock.advance(1);
      }
      assert.ok((await pending) instanceof Retryable);
      assert.equal(calls, 5);
    });
  }

  it("every delay stays within [0, ceiling] for random values across [0, 1)", async () => {
    for (const r of [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999]) {
      const { clock, retries, options } = harness({ random: () => r });
      await rejection(clock.settle(
        retry(
          () => Promise.reject(new Retryable()),
          { attempts: 6, baseDelayMs: 40, maxDelayMs: 250 },
          options,
        ),
        100,
      ));
      const ceilings = [40, 80, 160, 250, 250];
      for (const [i, { delayMs }] of retries.entries()) {
        assert.ok(
          delayMs >= 0 && delayMs <= ceilings[i]!,
          `retry ${i + 1}: ${delayMs} ms outside [0, ${ceilings[i]}] for random ${r}`,
        );
      }
    }
  });

  it("a non-retryable failure stops at once, with no back-off", async () => {
    const { clock, retries, options } = harness();
    let calls = 0;
    const fatal = new Fatal("no");
    const error = await rejection(retry(
      () => {
        calls++;
        return Promise.reject(fatal);
      },
      policy,
      options,
    ));
    assert.equal(error, fatal);
    assert.equal(calls, 1);
    assert.equal(retries.length, 0);
    assert.equal(clock.pending, 0);
  });

  it("an abort during the back-off rejects with aborted(reason), cancels the timer and makes no more attempts", async () => {
    const controller = new AbortController();
    const { clock, options } = harness({ signal: controller.signal });
    let calls = 0;
    const pending = rejection(retry(
      () => {
        calls++;
        return Promise.reject(new Retryable());
      },
      policy,
      options,
    ));
    await clock.advance(10);
    assert.equal(calls, 1);
    assert.equal(clock.pending, 1, "sleeping");
    controller.abort("stop");
    const error = await pending;
    assert.ok(error instanceof Aborted);
    assert.equal(error.message, "stop");
    assert.equal(clock.pending, 0, "the back-off timer is cancelled");
    await clock.advance(10_000);
    assert.equal(calls, 1);
  });

  it("a failure after the signal aborted is rethrown as it is, without a back-off", async () => {
    const controller = new AbortController();
    const { clock, retries, options } = harness({ signal: controller.signal });
    const failure = new Retryable("failed while aborting");
    const error = await rejection(retry(
      () => {
        controller.abort();
        return Promise.reject(failure);
      },
      policy,
      options,
    ));
    assert.equal(error, failure);
    assert.equal(retries.length, 0);
    assert.equal(clock.pending, 0);
  });

  it("a back-off that would end at or after the deadline is not taken: the failure is thrown at once", async () => {
    // random 0.5: the first back-off is 50 ms. Deadline 50 ms away: not taken; 51 ms away: taken.
    for (const [deadline, attempts] of [[50, 1], [49, 1], [51, 2]] as const) {
      const { clock, options } = harness({ deadline });
      let n = 0;
      const error = await rejection(
        clock.settle(
          retry(() => (n++, Promise.reject(new Retryable(`#${n}`))), { ...policy, attempts: 2 }, options),
          10,
        ),
      );
      assert.ok(error instanceof Retryable);
      assert.equal(n, attempts, `deadline ${deadline}`);
    }
  });

  it("a delay the server asked for replaces the jitter, and the deadline bounds it too", async () => {
    const { clock, retries, options } = harness({ delayFor: () => 1_000, deadline: 5_000 });
    let n = 0;
    const ok = await clock.settle(
      retry(() => (++n < 3 ? Promise.reject(new Retryable("x")) : Promise.resolve("ok")), policy, options),
      100,
    );
    assert.equal(ok, "ok");
    assert.deepEqual(retries.map((r) => r.delayMs), [1_000, 1_000]);
    assert.ok(clock.now() >= 2_000);
    const late = harness({ delayFor: () => 10_000, deadline: 5_000 });
    let tries = 0;
    await rejection(
      late.clock.settle(retry(() => (tries++, Promise.reject(new Retryable("x"))), policy, late.options)),
    );
    assert.equal(tries, 1, "a Retry-After past the budget is not waited for");
  });

  it("works without onRetry or a signal", async () => {
    const clock = new ManualClock({ start: 0 });
    let n = 0;
    const result = await clock.settle(
      retry(() => (++n < 2 ? Promise.reject(new Retryable("x")) : Promise.resolve(n)), policy, {
        clock,
        aborted: (reason) => new Aborted(String(reason)),
        retryable: (error) => error instanceof Retryable,
        random: () => 0.5,
      }),
      10,
    );
    assert.equal(result, 2);
  });

  it("uses Math.random when no random source is given, within the bounds", async () => {
    const { clock, retries, options } = harness({ random: undefined });
    await rejection(clock.settle(
      retry(
        () => Promise.reject(new Retryable()),
        { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
        options,
      ),
      100,
    ));
    assert.equal(retries.length, 2);
    assert.ok(retries[0]!.delayMs >= 0 && retries[0]!.delayMs <= 100);
    assert.ok(retries[1]!.delayMs >= 0 && retries[1]!.delayMs <= 200);
  });
});
