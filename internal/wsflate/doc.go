// Package wsflate implements the permessage-deflate WebSocket extension
// (RFC 7692): parsing the Sec-WebSocket-Extensions header, negotiating the
// extension parameters in both roles, and compressing and decompressing
// message payloads with or without context takeover.
//
// The package holds no connection: the Conn asks it for a negotiation
// result, then drives one Compressor and one Decompressor per connection.
// It uses only the standard library: internal/deflate compresses at
// flate.BestSpeed and for windows under 15 bits, compress/flate at the
// other levels, and internal/inflate decompresses. The benchmarks of
// internal/deflate and internal/inflate compare them with compress/flate;
// flatebench/RESULTS.md compares compress/flate with klauspost/compress.
//
// # Memory
//
// Measured by TestMemoryPerConnection (go test -v -run Memory, Go 1.26,
// amd64): the live heap one connection keeps between messages, after 48
// JSON messages of 1 KiB each way, more than a window holds. Both roles
// cost the same; what matters is whether each direction keeps its
// context.
//
//	Compressor, context takeover, flate.BestSpeed         50,600 B
//	Compressor, takeover, BestSpeed, 9-bit window         12,400 B
//	Compressor, takeover, BestSpeed, 4 KiB history        17,900 B
//	Compressor, context takeover, DefaultCompression     813,900 B
//	Compressor, takeover, DefaultCompression, 4 KiB       4,200 B
//	Compressor, no context takeover (pooled)                 210 B
//	Decompressor, context takeover (32 KiB window)        32,900 B
//	Decompressor, no context takeover (pooled)               110 B
//
// So a connection that keeps context both ways holds about 84 KB at
// BestSpeed (0.85 MB at DefaultCompression); one that negotiated
// server_no_context_takeover and client_no_context_takeover holds under
// 400 B when idle. A message in flight borrows pooled scratch for the
// time it is written or read: 175 KB for internal/deflate without
// context takeover (its window and input buffer, tokens and Huffman
// tables), a flate.Writer at the other levels (0.81 MB at the default
// level, 0.73 MB Huffman-only), and the inflater's tables and read
// buffer (22 KB, and the pooled 32 KiB window without context takeover:
// 55 KB in all). A server keeps its Compressor's context unless it sets
// server_no_context_takeover, and its Decompressor's unless the client's
// offer or its own Config sets client_no_context_takeover; the client
// mirrors this.
package wsflate

// ExtensionName is the extension token of permessage-deflate
// (RFC 7692 section 5).
const ExtensionName = "permessage-deflate"
