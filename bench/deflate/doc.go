// Package deflate holds testing.B benchmarks of permessage-deflate (RFC
// 7692) in Starling, coder/websocket, lxzan/gws and gorilla/websocket,
// each through its public API, with and without context takeover, on
// JSON-like text generated deterministically.
//
// Each library runs as the server, in this process, behind net/http on a
// loopback listener. The other end is a minimal client written here, so
// that its cost is the same for every library and small:
//
//   - BenchmarkSend: the server compresses and writes each message; the
//     client discards the bytes. The metric wire-B/msg is the compressed
//     size on the wire, frame header included.
//   - BenchmarkReceive: the client writes frames compressed once before the
//     timer starts (with context takeover, a stream whose window repeats,
//     so the same frames can be sent again and again); the server reads
//     and decompresses each message.
//   - BenchmarkCompress: the compressors alone, no connection: Starling's,
//     and klauspost/compress and compress/flate at level 1, which gws and
//     coder and gorilla use; the metric ratio is compressed over raw size.
//   - BenchmarkMemory: heap held per connection after one message each
//     way, with compression off, with context takeover and without it:
//     per pair of the same library's client and server (heap-B/pair), and
//     per server connection with the raw client (server-heap-B/conn); and
//     the goroutines each leaves running.
//
// MB/s counts uncompressed payload. gorilla/websocket negotiates only
// "no context takeover", so it has no takeover rows. Every library
// compresses at level 1 (flate.BestSpeed, each library's default) with a
// 32 KiB window: gws's default window with context takeover is 4 KiB
// (12 bits), which is set to 15 bits here so that all compress alike.
// gws uses klauspost/compress, Starling its own encoder (internal/deflate)
// and inflater (internal/inflate); coder and gorilla use compress/flate.
// Messages are binary, so that UTF-8 validation, which not every library
// does, stays out of the measurement.
package deflate
