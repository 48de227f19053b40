import { LocalBoard } from '../../server/dispatch/board.ts';
import { describeBoardConformance } from './board-conformance.ts';

describeBoardConformance('local (one node)', async () => ({ board: new LocalBoard(), close: () => Promise.resolve() }));
