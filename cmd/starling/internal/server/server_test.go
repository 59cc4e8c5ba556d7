package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// syncBuffer is a bytes.Buffer that handlers on several goroutines may
// log into.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestClosedRecord checks the record a connection leaves when it ends: its
// close code and what it carried, as Conn.Stats counts it.
func TestClosedRecord(t *testing.T) {
	var logs syncBuffer
	s := New(Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	hs := httptest.NewServer(s)
	defer hs.Close()
	defer s.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := starling.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{"one", "two"} {
		if err := c.Write(ctx, starling.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(starling.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}

	var rec struct {
		Msg      string
		Endpoint string
		Code     int
		MsgsIn   int64 `json:"msgs_in"`
		MsgsOut  int64 `json:"msgs_out"`
		BytesIn  int64 `json:"bytes_in"`
		BytesOut int64 `json:"bytes_out"`
	}
	for rec.Msg != "closed" {
		if ctx.Err() != nil {
			t.Fatalf("no closed record in:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"msg":"closed"`) {
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// In: two masked 3-byte messages (2+4+3 each) and the masked close
	// frame (2+4+2); out: the two echoes (2+3 each) and the close (2+2).
	if rec.Endpoint != "echo" || rec.Code != 1000 || rec.MsgsIn != 2 || rec.MsgsOut != 2 || rec.BytesIn != 26 || rec.BytesOut != 14 {
		t.Fatalf("closed record %+v, want echo, 1000, 2 and 2 messages, 26 and 14 bytes", rec)
	}
}
