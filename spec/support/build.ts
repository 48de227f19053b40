import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';

let building: Promise<void> | undefined;

/** Compiles the server to dist/ with the production tsconfig, once per test run. */
export function buildOnce(): Promise<void> {
  building ??= new Promise((resolve, reject) => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFile(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`build failed: ${stdout}${stderr}`));
      else resolve();
    });
  });
  return building;
}
