/**
 * A store that acknowledges every Nth message without storing it: a deliberate fault, to show
 * that the load generator's checker catches a server that loses acknowledged messages.
 */
import type { CommittedMessage, Stores } from '../../storage/ports.ts';

export function losingEvery(n: number): (stores: Stores) => Stores {
  return (stores) => {
    let count = 0;
    return {
      ...stores,
      messages: {
        commit: (input): Promise<CommittedMessage> => {
          if (++count % n !== 0) return stores.messages.commit(input);
          const message = { ...input, seq: 1 };
          return Promise.resolve({ fresh: false, message, receiverVersion: 0, senderVersion: 0 });
        },
      },
    };
  };
}
