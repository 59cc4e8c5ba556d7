package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchJSONReport(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	plot := filepath.Join(t.TempDir(), "latency.svg")
	r := runStarling(t, nil, "bench", "ws://"+s.addr+"/echo", "-c", "4", "-s", "256", "-n", "2000", "-w", "8", "--json", "--plot", plot)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	var rep struct {
		URL                       string
		Connections, Window, Size int
		Type                      string
		Seconds                   float64
		Messages                  int64
		MessagesPerS              float64            `json:"messages_per_s"`
		MBPerS                    float64            `json:"mb_per_s"`
		LatencyMS                 map[string]float64 `json:"latency_ms"`
		Errors                    int64
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("report %q: %v", r.stdout, err)
	}
	if rep.URL != "ws://"+s.addr+"/echo" || rep.Connections != 4 || rep.Window != 8 || rep.Size != 256 || rep.Type != "binary" || rep.Messages != 2000 || rep.Errors != 0 {
		t.Fatalf("report = %+v", rep)
	}
	if rep.Seconds <= 0 || rep.MessagesPerS <= 0 || rep.MBPerS <= 0 {
		t.Errorf("rates = %v s, %v msg/s, %v MB/s", rep.Seconds, rep.MessagesPerS, rep.MBPerS)
	}
	l := rep.LatencyMS
	if !(0 < l["p50"] && l["p50"] <= l["p90"] && l["p90"] <= l["p99"] && l["p99"] <= l["max"]) {
		t.Errorf("latencies not ordered: %v", l)
	}
	svg, err := os.ReadFile(plot)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(svg, new(struct{})); err != nil || !strings.Contains(string(svg), "p99") {
		t.Errorf("plot is not an SVG with percentiles: %v", err)
	}
}

func TestBenchTextReportForDuration(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r := runStarling(t, nil, "bench", "-d", "500ms", "-c", "2", "--text", "ws://"+s.addr+"/echo")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"starling bench ws://" + s.addr + "/echo\n", "connections  2, window 1, 64-byte text messages\n", "msg/s", "MB/s", "p50", "p99", "errors       0\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestBenchErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	r := runStarling(t, nil, "bench", "-n", "1", "--origin", "https://evil.example", "ws://"+s.addr+"/echo")
	// One line, though each of the 10 connections was refused.
	if r.code != 1 || !strings.HasPrefix(r.stderr, "starling: handshake refused: 403 Forbidden") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("refused bench: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, args := range [][]string{
		{"bench"},
		{"bench", "http://x/echo"},
		{"bench", "-w", "0", "ws://x/echo"},
		{"bench", "--plot", "x.png", "ws://x/echo"},
		{"bench", "--proxy", "ftp://p:21", "ws://x/echo"},
	} {
		if r := runInProcess(args...); r.code != 2 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("starling %q: exit %d, stderr %q; want exit 2 and one line", args, r.code, r.stderr)
		}
	}
}
