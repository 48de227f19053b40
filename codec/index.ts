export type { Frame } from './frame.ts';
export { isCompressed } from './frame.ts';
export { FrameDecoder, type FrameDecoderOptions, type FrameDecoderStats, type FrameSink } from './frame-decoder.ts';
export { encodeFrame, frameBytes, frameHeader, OversizedFrameError, prepareBody, prepareEncoded, writeHeader, type EncodeOptions, type PreparedBody } from './frame-encoder.ts';
export { plainBody, readBody, readRawBody } from './frame-body.ts';
export { decodeBody, decodeMsgpack, encodeShared } from './body-codec.ts';
export { entryBytes, messageBytes, messageEncodes } from './message-bytes.ts';
