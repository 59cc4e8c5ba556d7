// Package flatebench compares compress/flate with
// github.com/klauspost/compress/flate for permessage-deflate traffic: 1 KiB
// JSON-like messages, each ended by a sync flush (RFC 7692 section 7.2.1),
// with and without context takeover. It is a separate module so that the
// Starling module itself depends on the standard library only. The results
// are in RESULTS.md.
package flatebench
