/** Times every message commit of the stores, for the store commit latency histogram. */
import type { Stores } from '../../storage/ports.ts';

export function timeCommits(stores: Stores, observe: (seconds: number) => void): Stores {
  const { messages } = stores;
  return {
    ...stores,
    durable: () => stores.durable(),
    close: () => stores.close(),
    messages: {
      async commit(input) {
        const started = performance.now();
        try {
          return await messages.commit(input);
        } finally {
          observe((performance.now() - started) / 1000);
        }
      },
    },
  };
}
