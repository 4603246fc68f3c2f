/**
 * The one concurrency limit: at most `max` tasks run at once, the others wait in the order they came.
 *
 * @module
 */

/** Runs tasks through a limit of `max` at a time. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/** A {@link Limiter} of `max` concurrent tasks. */
export function limiter(max: number): Limiter {
  let running = 0;
  const waiting: (() => void)[] = [];
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      const start = () => {
        running++;
        new Promise<T>((done) => done(task())).then(resolve, reject).finally(() => {
          running--;
          waiting.shift()?.();
        });
      };
      if (running < max) start();
      else waiting.push(start);
    });
}
