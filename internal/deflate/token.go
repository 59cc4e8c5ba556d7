package deflate

// A token is one LZ77 symbol of a block: a literal byte, or a match of a
// length (3..258) at a distance (1..32768), RFC 1951 section 3.2.5.
//
//	literal:  the byte value, below 256
//	match:    1<<31 | distCode<<23 | (length-3)<<15 | (distance-1)
//
// The distance code is kept in the token because it is needed twice, for
// the block's frequencies and when the block is written.
type token uint32

const (
	matchFlag  = 1 << 31
	minMatch   = 4   // the shortest match the matcher looks for
	maxMatch   = 258 // the longest match one token can express
	endOfBlock = 256 // the literal/length symbol ending a block

	numLitLen  = 286 // literal/length symbols that may occur (286 and 287 never do)
	numDist    = 30  // distance symbols that may occur (30 and 31 never do)
	numCodeLen = 19  // code length symbols (RFC 1951 section 3.2.7)
)

func matchToken(length, dist int) token {
	return token(matchFlag | uint32(distCode(dist-1))<<23 | uint32(length-3)<<15 | uint32(dist-1))
}

func (t token) isMatch() bool   { return t&matchFlag != 0 }
func (t token) length3() int    { return int(t>>15) & 0xff } // length - 3
func (t token) dist1() int      { return int(t) & 0x7fff }   // distance - 1
func (t token) distCode() int   { return int(t>>23) & 0x1f }
func (t token) literal() byte   { return byte(t) }
func (t token) lengthCode() int { return int(lengthCodes[t.length3()]) }

// Length symbols 257..285 (RFC 1951 section 3.2.5): for length-3 in
// 0..255, lengthCodes gives the symbol minus 257; lengthBase and
// lengthExtra give each symbol's first length-3 and its count of extra
// bits.
var (
	lengthCodes [256]uint8
	lengthBase  = [29]uint16{0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 255}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
)

// Distance symbols 0..29: distBase and distExtra give each symbol's first
// distance-1 and its count of extra bits. distCodes maps distance-1 to its
// symbol: directly below 256, and by (distance-1)>>7 from 256 up, where
// every symbol spans a multiple of 128 distances.
var (
	distCodes [512]uint8
	distBase  = [30]uint16{0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576}
	distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

func init() {
	for code := range lengthBase {
		next := 256
		if code+1 < len(lengthBase) {
			next = int(lengthBase[code+1])
		}
		for l := int(lengthBase[code]); l < next; l++ {
			lengthCodes[l] = uint8(code)
		}
	}
	for code := range distBase {
		next := 1 << 15
		if code+1 < len(distBase) {
			next = int(distBase[code+1])
		}
		for d := int(distBase[code]); d < next; d++ {
			if d < 256 {
				distCodes[d] = uint8(code)
			} else {
				distCodes[256+d>>7] = uint8(code)
			}
		}
	}
}

// distCode returns the distance symbol of d = distance-1.
func distCode(d int) int {
	if d < 256 {
		return int(distCodes[d])
	}
	return int(distCodes[256+d>>7])
}
