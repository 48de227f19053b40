import { readFileSync } from 'node:fs';

export interface FrameVector {
  name: string;
  opcode: string;
  opcodeValue: number;
  requestId: number;
  flags: number;
  hex: string;
  body: unknown;
  wire: unknown;
}

export interface ErrorVector {
  name: string;
  hex: string;
  error: number;
}

function load<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(`../../protocol/vectors/${file}`, import.meta.url), 'utf8')) as T;
}

export const frameVectors = load<FrameVector[]>('frames.json');
export const malformedVectors = load<ErrorVector[]>('malformed.json');
export const badBodyVectors = load<ErrorVector[]>('bad-bodies.json');
