// Package wsflate implements the permessage-deflate WebSocket extension
// (RFC 7692): parsing the Sec-WebSocket-Extensions header, negotiating the
// extension parameters in both roles, and compressing and decompressing
// message payloads with or without context takeover.
//
// The package holds no connection: the Conn asks it for a negotiation
// result, then drives one Compressor and one Decompressor per connection.
// It uses only the standard library (compress/flate); see
// flatebench/RESULTS.md for the comparison with klauspost/compress.
//
// # Memory
//
// Measured by TestMemoryPerConnection (go test -v -run Memory, Go 1.26,
// amd64): the live heap one connection keeps between messages, after one
// 1 KiB message each way. Both roles cost the same; what matters is whether
// each direction keeps its context.
//
//	Compressor, context takeover, flate.BestSpeed     1,206,000 B
//	Compressor, context takeover, DefaultCompression    814,000 B
//	Compressor, no context takeover (pooled)                 80 B
//	Compressor, window < 15 bits (pooled)                    80 B
//	Decompressor, context takeover (32 KiB window)       32,900 B
//	Decompressor, no context takeover (pooled)              100 B
//
// So a connection that keeps context both ways holds about 1.24 MB at
// BestSpeed (0.85 MB at DefaultCompression); one that negotiated
// server_no_context_takeover and client_no_context_takeover holds under
// 300 B when idle. A message in flight borrows a pooled flate.Writer
// (1.2 MB at BestSpeed, which windows under 15 bits use, 0.81 MB at the
// default level, 0.73 MB Huffman-only) or the inflater's pooled tables
// and read buffer (22 KB, and the pooled 32 KiB window without context
// takeover: 55 KB in all) for the time it is written or read. A server
// keeps its Compressor's context unless it sets server_no_context_takeover,
// and its Decompressor's unless the client's offer or its own Config sets
// client_no_context_takeover; the client mirrors this.
package wsflate

// ExtensionName is the extension token of permessage-deflate
// (RFC 7692 section 5).
const ExtensionName = "permessage-deflate"
