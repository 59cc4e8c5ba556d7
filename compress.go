package starling

// extensions records what the handshake negotiated.
type extensions struct {
	deflate bool
}
