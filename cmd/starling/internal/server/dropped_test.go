package server

import (
	"context"
	"strings"
	"testing"

	"github.com/starling-ws/starling"
)

// TestDroppedMemberIsSilenced checks that once the room has announced a
// slow member's leaving, what that member still sends while its close
// handshake runs is not relayed under its name: the others would see a
// message from someone who has left.
func TestDroppedMemberIsSilenced(t *testing.T) {
	url := startTestServerQueue(t, 8)
	slow := dial(t, url+"/chat?name=slow")
	next(t, slow) // welcome; from now on slow reads nothing
	fast := dial(t, url+"/chat?name=fast")
	next(t, fast)
	ctx := context.Background()
	big := strings.Repeat("x", 64<<10)
	dropped := false
	for i := 0; i < 1000 && !dropped; i++ {
		if err := fast.Write(ctx, starling.MessageText, []byte(big)); err != nil {
			t.Fatal(err)
		}
		for ev := next(t, fast); ev.Type != "message"; ev = next(t, fast) {
			dropped = dropped || ev.Type == "leave" && ev.Name == "slow"
		}
	}
	if !dropped {
		t.Fatal("slow member never dropped")
	}
	if err := slow.Write(ctx, starling.MessageText, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if err := fast.Write(ctx, starling.MessageText, []byte("marker")); err != nil {
		t.Fatal(err)
	}
	for {
		ev := next(t, fast)
		if ev.Type == "message" && ev.Name == "slow" {
			t.Fatalf("after slow left, the room relayed its message %q", ev.Text)
		}
		if ev.Type == "message" && ev.Text == "marker" {
			return
		}
	}
}
