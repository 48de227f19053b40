/**
 * The benches draw from the same seeded generator as the tests, so a seed means the same byte
 * sequence in both and a chunking that misbehaves in a bench can be replayed in a test.
 */
export { Prng } from '../../spec/support/prng.ts';
