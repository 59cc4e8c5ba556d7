package starling

import "fmt"

// MessageType is the type of a data message (RFC 6455 section 5.6).
type MessageType int

// The data message types.
const (
	// MessageText is a message of UTF-8 text.
	MessageText MessageType = 1
	// MessageBinary is a message of arbitrary bytes.
	MessageBinary MessageType = 2
)

// String returns "text", "binary" or a numeric form for other values.
func (t MessageType) String() string {
	switch t {
	case MessageText:
		return "text"
	case MessageBinary:
		return "binary"
	}
	return fmt.Sprintf("MessageType(%d)", int(t))
}
