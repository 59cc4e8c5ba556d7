package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"testing"
	"time"
)

func TestWriteSVGIsWellFormed(t *testing.T) {
	var h Histogram
	for i := 1; i <= 5000; i++ {
		h.Record(time.Duration(i*i) * time.Nanosecond)
	}
	for name, hist := range map[string]*Histogram{"samples": &h, "empty": new(Histogram)} {
		var buf bytes.Buffer
		if err := WriteSVG(&buf, hist, "latency <test> & more"); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(buf.Bytes(), []byte("latency &lt;test&gt; &amp; more")) {
			t.Errorf("%s: title not escaped", name)
		}
		dec := xml.NewDecoder(&buf)
		var rects, texts int
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: not well-formed XML: %v", name, err)
			}
			if se, ok := tok.(xml.StartElement); ok {
				switch se.Name.Local {
				case "rect":
					rects++
				case "text":
					texts++
				}
			}
		}
		if name == "samples" && rects < 10 {
			t.Errorf("%s: %d bars, want a histogram", name, rects)
		}
		if texts == 0 {
			t.Errorf("%s: no text in the plot", name)
		}
	}
}

func TestNiceStep(t *testing.T) {
	for top, want := range map[int64]int64{0: 1, 4: 1, 9: 2, 23: 5, 100: 20, 4999: 1000} {
		if got := niceStep(top); got != want {
			t.Errorf("niceStep(%d) = %d, want %d", top, got, want)
		}
	}
}
