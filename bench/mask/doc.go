// Package mask compares Starling's masking (RFC 6455 section 5.3) with the
// only anchor masker that is exported, gobwas/ws's Cipher, and with copy
// (memmove) of the same size as a yardstick. gorilla's maskBytes, coder's
// mask and nbio's maskXOR are unexported, and gws's MaskXOR is in an
// internal package, so they cannot be called from here; their own
// benchmarks are the place to compare them.
package mask
