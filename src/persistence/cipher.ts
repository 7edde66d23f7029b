import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigurationError, DataError } from './errors';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Encrypts and authenticates stored state: AES-256-GCM, a random nonce per record. */
export class AesGcmCipher {
  readonly #key: Buffer;

  /** `key` is 32 bytes, or their base64 encoding (as in CIPHER_KEY). */
  constructor(key: Buffer | string, settingName = 'CIPHER_KEY') {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'base64') : key;
    if (bytes.length !== 32 || (typeof key === 'string' && bytes.toString('base64') !== key.trim())) {
      throw new ConfigurationError(
        `${settingName} must be 32 bytes encoded in base64 (44 characters); ` +
          `make one with generateCipherKey()`,
      );
    }
    this.#key = bytes;
  }

  encrypt(plain: Uint8Array): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]);
  }

  decrypt(sealed: Uint8Array): Buffer {
    if (sealed.length < NONCE_BYTES + TAG_BYTES) {
      throw new DataError('encrypted state is too short to be valid: is the data encrypted at all?');
    }
    const data = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    const decipher = createDecipheriv('aes-256-gcm', this.#key, data.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new DataError('cannot decrypt stored state: wrong CIPHER_KEY, or the data is corrupt');
    }
  }
}

/** A new random key for CIPHER_KEY, in base64. */
export function generateCipherKey(): string {
  return randomBytes(32).toString('base64');
}
