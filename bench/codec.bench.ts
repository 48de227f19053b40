/**
 * Codec benchmarks: decoding a stream cut into reads, body formats, encoding and fan-out, and
 * LZ4 on a sync page, each against the common alternative, then the codec's goals.
 */
import { Bodies } from '../protocol/bodies.ts';
import { Opcode } from '../protocol/opcodes.ts';
import type { BenchContext } from './support/context.ts';
import { atLeast, atMost, type GoalSpec } from './support/goals.ts';
import { Prng } from './support/prng.ts';
import { caseOf, type SuiteResult } from './support/suite.ts';
import { bodyFormatSuite } from './codec/body-suites.ts';
import { DecodeCase, framingSuite, fullDecodeSuite } from './codec/decode-suites.ts';
import { EncodeCase, encodeSuite, fanOutSuite } from './codec/encode-suites.ts';
import { pushEntries, syncPage } from './codec/fixtures.ts';
import { compressSuite, decompressSuite, pageBodies, wireSizes } from './codec/lz4-suites.ts';
import { pageFrames, smallFrames } from './codec/workloads.ts';

const SEED = 0x7e57;
/** About 300 KiB of small frames and 1 MiB of page frames per op: long enough to time, short enough to sample often. */
const SMALL_FRAMES = 2048;
const PAGE_FRAMES = 32;
const PAGE_ENTRIES = 200;
const ENCODED_PUSHES = 256;
const ENCODED_PAGES = 4;
const FAN_OUT_RECEIVERS = 100;

interface DecodeResults {
  readonly smallFraming: SuiteResult;
  readonly smallFull: SuiteResult;
  readonly pageFraming: SuiteResult;
}

function runDecode(bench: BenchContext): DecodeResults {
  const small = smallFrames(SMALL_FRAMES, SEED);
  const page = pageFrames(PAGE_FRAMES, PAGE_ENTRIES, SEED);
  const smallFraming = bench.suite(framingSuite(small));
  const smallFull = bench.suite(fullDecodeSuite(small));
  const pageFraming = bench.suite(framingSuite(page));
  bench.suite(fullDecodeSuite(page));
  bench.suite(bodyFormatSuite(small));
  bench.suite(bodyFormatSuite(page));
  return { smallFraming, smallFull, pageFraming };
}

interface EncodeResults {
  readonly small: SuiteResult;
  readonly page: SuiteResult;
}

function runEncode(bench: BenchContext): EncodeResults {
  const prng = new Prng(SEED);
  const pushes = { label: 'small push frames', opcode: Opcode.push, schema: Bodies.push, values: pushEntries(prng, ENCODED_PUSHES) };
  const pageValues = Array.from({ length: ENCODED_PAGES }, () => syncPage(prng, PAGE_ENTRIES));
  const pages = { label: 'page-sized sync frames', opcode: Opcode.syncPage, schema: Bodies.syncPage, values: pageValues };
  const small = bench.suite(encodeSuite(pushes, false));
  const page = bench.suite(encodeSuite(pages, true));
  bench.suite(fanOutSuite(pushes, FAN_OUT_RECEIVERS));
  return { small, page };
}

function runLz4(bench: BenchContext): void {
  const body = syncPage(new Prng(SEED), PAGE_ENTRIES);
  const page = pageBodies(body);
  bench.suite(compressSuite(page));
  bench.suite(decompressSuite(page));
  bench.facts(wireSizes(page, body));
}

/** How many times longer one frame takes in case `slower` than in case `faster`. */
function costRatio(suite: SuiteResult, slower: string, faster: string): number {
  return (caseOf(suite, faster).framesPerSecond ?? NaN) / (caseOf(suite, slower).framesPerSecond ?? NaN);
}

function codecGoals(decode: DecodeResults, encode: EncodeResults): GoalSpec[] {
  const speedup = (suite: SuiteResult, name: string): number => caseOf(suite, name).vsBaseline;
  return [
    atLeast('page-sized frames, framing: FrameDecoder speed vs naive', speedup(decode.pageFraming, DecodeCase.ours), 2.5),
    atLeast('small frames, framing: FrameDecoder speed vs naive', speedup(decode.smallFraming, DecodeCase.ours), 1),
    atMost('small frames: full decode cost vs msgpack alone', costRatio(decode.smallFull, DecodeCase.oursFull, DecodeCase.bodyOnly), 1.3),
    atLeast('small frames: encodeFrame speed vs header alloc + concat', speedup(encode.small, EncodeCase.ours), 1),
    atLeast('page-sized frames: encodeFrame speed vs header alloc + concat', speedup(encode.page, EncodeCase.ours), 1),
  ];
}

export async function run(bench: BenchContext): Promise<void> {
  const decode = runDecode(bench);
  const encode = runEncode(bench);
  runLz4(bench);
  bench.goals('goals', codecGoals(decode, encode));
}
