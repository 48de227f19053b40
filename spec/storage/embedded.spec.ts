import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../storage/embedded/embedded-store.ts';
import { describeStoreConformance } from './conformance.ts';

describeStoreConformance('embedded (LMDB)', async (options) => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-conformance-'));
  const stores = openEmbeddedStore({ path: dir, ...options });
  return {
    ...stores,
    close: async () => {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
