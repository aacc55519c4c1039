// sodium-native for the custodial browser bundle (esbuild --alias:sodium-native=...).
// A custodial dht-relay client does no cryptography of its own: the relay runs Noise,
// secret-stream and signing with the key pair the page hands it. The modules the client loads
// still read a few libsodium constants and hash their namespaces at load time, so this shim has
// the real constants, randombytes_buf from WebCrypto, and a placeholder generichash (the
// namespaces it feeds are used only by non-custodial flows). Any other sodium call throws, so a
// flow that would need real sodium fails loudly instead of computing garbage.
const CONSTANTS = {
  crypto_secretstream_xchacha20poly1305_ABYTES: 17,
  crypto_secretstream_xchacha20poly1305_TAG_MESSAGE: 0,
  crypto_secretstream_xchacha20poly1305_TAG_FINAL: 3,
  crypto_secretstream_xchacha20poly1305_STATEBYTES: 52,
  crypto_secretstream_xchacha20poly1305_HEADERBYTES: 24,
  crypto_secretstream_xchacha20poly1305_KEYBYTES: 32,
  crypto_scalarmult_ed25519_BYTES: 32,
  crypto_sign_SECRETKEYBYTES: 64,
  crypto_sign_PUBLICKEYBYTES: 32,
  crypto_sign_SEEDBYTES: 32,
  crypto_sign_BYTES: 64,
  crypto_kx_SEEDBYTES: 32,
  crypto_kx_PUBLICKEYBYTES: 32,
  crypto_kx_SECRETKEYBYTES: 32,
  crypto_scalarmult_BYTES: 32,
  crypto_scalarmult_SCALARBYTES: 32,
  crypto_generichash_BYTES: 32,
  crypto_generichash_BYTES_MIN: 16,
  crypto_generichash_BYTES_MAX: 64,
  crypto_generichash_KEYBYTES: 32
}

const IMPLEMENTED = {
  randombytes_buf (buf) { crypto.getRandomValues(buf) },
  sodium_memzero (buf) { buf.fill(0) },
  sodium_free () {},
  crypto_generichash (out) { out.fill(0) }, // placeholder: see above
  crypto_generichash_batch (out) { out.fill(0) }
}

module.exports = new Proxy({ ...CONSTANTS, ...IMPLEMENTED }, {
  get (target, name) {
    if (name in target) return target[name]
    if (typeof name !== 'string') return undefined
    return function unavailable () {
      throw new Error('sodium.' + name + ' is not in the custodial browser bundle')
    }
  }
})
