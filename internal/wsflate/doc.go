// Package wsflate implements the permessage-deflate WebSocket extension
// (RFC 7692): parsing the Sec-WebSocket-Extensions header, negotiating the
// extension parameters in both roles, and compressing and decompressing
// message payloads with or without context takeover.
//
// The package holds no connection: the Conn asks it for a negotiation
// result, then drives one Compressor and one Decompressor per connection.
// It uses only the standard library (compress/flate); see
// flatebench/RESULTS.md for the comparison with klauspost/compress.
package wsflate

// ExtensionName is the extension token of permessage-deflate
// (RFC 7692 section 5).
const ExtensionName = "permessage-deflate"
