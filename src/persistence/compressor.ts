import { deflateSync, inflateSync } from 'node:zlib';
import { DataError } from './errors';

/** zlib compression of stored state. */
export class ZlibCompressor {
  compress(data: Uint8Array): Buffer {
    return deflateSync(data);
  }

  decompress(data: Uint8Array): Buffer {
    try {
      return inflateSync(data);
    } catch (error) {
      throw new DataError(`cannot decompress stored state (${(error as Error).message}): is it compressed at all?`);
    }
  }
}
