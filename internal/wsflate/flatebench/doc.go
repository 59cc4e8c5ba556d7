// Package flatebench compares compress/flate with
// github.com/klauspost/compress/flate for permessage-deflate traffic: 1 KiB
// JSON-like messages, each ended by a sync flush (RFC 7692 section 7.2.1),
// with and without context takeover. It is a separate module so that the
// Starling module itself depends on the standard library only. The results
// are in RESULTS.md.
//
// It also uses klauspost/compress, an implementation independent of
// compress/flate, to check Starling's own codec (differential_test.go):
// internal/inflate on klauspost's output, and internal/deflate's output
// with klauspost's reader. The Starling module is replaced by the tree
// this module sits in, so the tests check the code beside them.
package flatebench
