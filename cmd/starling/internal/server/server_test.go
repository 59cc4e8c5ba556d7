package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/starling-ws/starling"
)

// records is an io.Writer for a slog handler, which writes each record in
// one call: it passes every record on to the test.
type records chan []byte

func (r records) Write(p []byte) (int, error) {
	r <- append([]byte(nil), p...)
	return len(p), nil
}

// TestClosedRecord checks the record a connection leaves when it ends: its
// close code and what it carried, as Conn.Stats counts it.
func TestClosedRecord(t *testing.T) {
	logs := make(records, 16)
	s := New(Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
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
		select {
		case line := <-logs:
			if err := json.Unmarshal(line, &rec); err != nil {
				t.Fatal(err)
			}
		case <-ctx.Done():
			t.Fatal("no closed record")
		}
	}
	// In: two masked 3-byte messages (2+4+3 each) and the masked close
	// frame (2+4+2); out: the two echoes (2+3 each) and the close (2+2).
	if rec.Endpoint != "echo" || rec.Code != 1000 || rec.MsgsIn != 2 || rec.MsgsOut != 2 || rec.BytesIn != 26 || rec.BytesOut != 14 {
		t.Fatalf("closed record %+v, want echo, 1000, 2 and 2 messages, 26 and 14 bytes", rec)
	}
}
